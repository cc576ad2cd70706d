/**
 * W3 fan-in: 16 concurrent producers enqueuing one by one (where group commit shows), over
 * HTTP (`W3`) and then, on a fresh daemon, each producer a client on the stream (`W3-stream`).
 */
import type { BenchOptions } from "../support/options.ts";
import type { Report } from "../support/report.ts";
import { enqueueOne, enqueueOneOverStream, streamProducer } from "../support/tqd-api.ts";
import { withDaemon } from "../support/tqd-process.ts";

const PRODUCERS = 16;

export async function runFanIn(options: BenchOptions, report: Report): Promise<void> {
  for (const transport of ["http", "stream"] as const) report.add(await fanIn(options.w3Tasks, transport));
}

async function fanIn(tasks: number, transport: "http" | "stream") {
  return withDaemon(async ({ url }) => {
    const perProducer = Math.ceil(tasks / PRODUCERS);
    const n = perProducer * PRODUCERS;
    const producers = Array.from({ length: PRODUCERS }, () => (transport === "stream" ? streamProducer(url) : undefined));
    const start = performance.now();
    await Promise.all(
      producers.map(async (producer) => {
        for (let i = 0; i < perProducer; i++) await (producer ? enqueueOneOverStream(producer, "w3") : enqueueOne(url, "w3"));
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    for (const producer of producers) producer?.close();
    const over = transport === "stream" ? ", over the stream" : "";
    return { id: transport === "stream" ? "W3-stream" : "W3", workload: `W3 fan-in, 16 producers one by one${over}`, n, enqueuePerSec: Math.round(n / seconds) };
  });
}
