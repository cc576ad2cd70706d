/**
 * W3 fan-in: 16 concurrent producers enqueuing one by one (where group commit shows), over
 * HTTP (`W3`) and then, on a fresh daemon, each producer a client on the stream (`W3-stream`).
 * Each then runs a second round on the same daemon (`-warm`): the first round is a cold start,
 * about a fifth slower than the daemon once its JIT has warmed up (see bench/NOTES.md).
 */
import type { BenchOptions } from "../support/options.ts";
import type { Report } from "../support/report.ts";
import { enqueueOne, enqueueOneOverStream, streamProducer } from "../support/tqd-api.ts";
import { withDaemon } from "../support/tqd-process.ts";

const PRODUCERS = 16;

export async function runFanIn(options: BenchOptions, report: Report): Promise<void> {
  for (const transport of ["http", "stream"] as const) {
    for (const result of await fanIn(options.w3Tasks, transport)) report.add(result);
  }
}

async function fanIn(tasks: number, transport: "http" | "stream") {
  return withDaemon(async ({ url }) => {
    const perProducer = Math.ceil(tasks / PRODUCERS);
    const n = perProducer * PRODUCERS;
    const over = transport === "stream" ? ", over the stream" : "";
    const id = transport === "stream" ? "W3-stream" : "W3";
    const cold = await fanInRound(url, perProducer, transport);
    const warm = await fanInRound(url, perProducer, transport);
    return [
      { id, workload: `W3 fan-in, 16 producers one by one${over}`, n, enqueuePerSec: Math.round(n / cold) },
      { id: `${id}-warm`, workload: `W3${over}, second round (warm)`, n, enqueuePerSec: Math.round(n / warm) },
    ];
  });
}

/** 16 producers enqueue `perProducer` tasks each, one by one; returns the seconds it took. */
async function fanInRound(url: string, perProducer: number, transport: "http" | "stream"): Promise<number> {
  const producers = Array.from({ length: PRODUCERS }, () => (transport === "stream" ? streamProducer(url) : undefined));
  const start = performance.now();
  await Promise.all(
    producers.map(async (producer) => {
      for (let i = 0; i < perProducer; i++) await (producer ? enqueueOneOverStream(producer, "w3") : enqueueOne(url, "w3"));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const producer of producers) producer?.close();
  return seconds;
}
