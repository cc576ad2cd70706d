/** W2 round trip: an idle worker is polling; sequential enqueue -> completion observed. */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { enqueueOne } from "../support/tqd-api.ts";
import { withDaemon } from "../support/tqd-process.ts";
import { spawnNoopWorker } from "../support/worker-drain.ts";

const WARMUP_ROUNDS = 5;

export async function runRoundTrip(options: BenchOptions, report: Report): Promise<void> {
  report.add(
    await withDaemon(async ({ url }) => {
      const worker = spawnNoopWorker(url, "w2", 1);
      try {
        await new Promise((r) => setTimeout(r, 500));
        const samples: number[] = [];
        for (let i = 0; i < options.w2Rounds + WARMUP_ROUNDS; i++) {
          const start = performance.now();
          const id = await enqueueOne(url, "w2");
          const view = (await (await fetch(`${url}/v1/tasks/${id}?waitMs=10000`)).json()) as { state: string };
          if (view.state !== "completed") throw new Error(`task ${id} ended ${view.state}`);
          if (i >= WARMUP_ROUNDS) samples.push(performance.now() - start);
        }
        samples.sort((a, b) => a - b);
        const at = (q: number) => round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!);
        return { id: "W2", workload: "W2 round trip (enqueue -> completion observed)", rounds: options.w2Rounds, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
      } finally {
        await worker.stop();
      }
    }),
  );
}
