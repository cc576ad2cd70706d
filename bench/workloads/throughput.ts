/**
 * W1 throughput: N no-op tasks enqueued one by one (each awaited) and, on a fresh daemon,
 * batched (1,000 per call); then drained by one `tqd work` process at concurrency 32.
 */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { enqueueBatched, enqueueOne } from "../support/tqd-api.ts";
import { peakRssMiB, withDaemon } from "../support/tqd-process.ts";
import { drainWithWorker } from "../support/worker-drain.ts";

export async function runThroughput(options: BenchOptions, report: Report): Promise<void> {
  for (const mode of ["single", "batch"] as const) report.add(await throughput(options.w1Tasks, mode));
}

async function throughput(n: number, mode: "single" | "batch") {
  return withDaemon(async ({ url, server }) => {
    const queue = `w1-${mode}`;
    const start = performance.now();
    let enqueueSeconds: number;
    if (mode === "single") {
      for (let i = 0; i < n; i++) await enqueueOne(url, queue);
      enqueueSeconds = (performance.now() - start) / 1000;
    } else {
      enqueueSeconds = await enqueueBatched(url, queue, n, 1000, 1);
    }
    const drained = await drainWithWorker(url, queue, { serverPid: server.child.pid });
    return {
      id: `W1-${mode}`,
      workload: `W1 throughput, enqueue ${mode === "single" ? "one by one" : "batched 1000"}`,
      n,
      enqueuePerSec: Math.round(n / enqueueSeconds),
      processPerSec: Math.round(n / drained.seconds),
      wallSeconds: round(enqueueSeconds + drained.seconds),
      serverPeakRssMiB: peakRssMiB(server.child.pid),
      workerPeakRssMiB: drained.workerPeakRssMiB,
    };
  });
}
