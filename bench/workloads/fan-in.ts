/** W3 fan-in: 16 concurrent producers enqueuing one by one (where group commit shows). */
import type { BenchOptions } from "../support/options.ts";
import type { Report } from "../support/report.ts";
import { enqueueOne } from "../support/tqd-api.ts";
import { withDaemon } from "../support/tqd-process.ts";

const PRODUCERS = 16;

export async function runFanIn(options: BenchOptions, report: Report): Promise<void> {
  report.add(
    await withDaemon(async ({ url }) => {
      const perProducer = Math.ceil(options.w3Tasks / PRODUCERS);
      const n = perProducer * PRODUCERS;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          for (let i = 0; i < perProducer; i++) await enqueueOne(url, "w3");
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      return { id: "W3", workload: "W3 fan-in, 16 producers one by one", n, enqueuePerSec: Math.round(n / seconds) };
    }),
  );
}
