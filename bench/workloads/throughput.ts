/**
 * W1 throughput: N no-op tasks enqueued one by one (each awaited) and, on a fresh daemon,
 * batched (1,000 per call); then drained by one `tqd work` process at concurrency 32. Then one by
 * one again from a client on the stream (`W1-single-stream`).
 */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { enqueueBatched, enqueueOne, enqueueOneOverStream, streamProducer } from "../support/tqd-api.ts";
import { peakRssMiB, withDaemon } from "../support/tqd-process.ts";
import { drainWithWorker } from "../support/worker-drain.ts";

export async function runThroughput(options: BenchOptions, report: Report): Promise<void> {
  for (const mode of ["single", "batch", "single-stream"] as const) report.add(await throughput(options.w1Tasks, mode));
}

const LABELS = { single: "one by one", batch: "batched 1000", "single-stream": "one by one over the stream" };

async function throughput(n: number, mode: "single" | "batch" | "single-stream") {
  return withDaemon(async ({ url, server }) => {
    const queue = `w1-${mode}`;
    const start = performance.now();
    let enqueueSeconds: number;
    if (mode === "single") {
      for (let i = 0; i < n; i++) await enqueueOne(url, queue);
      enqueueSeconds = (performance.now() - start) / 1000;
    } else if (mode === "single-stream") {
      const producer = streamProducer(url);
      for (let i = 0; i < n; i++) await enqueueOneOverStream(producer, queue);
      enqueueSeconds = (performance.now() - start) / 1000;
      producer.close();
    } else {
      enqueueSeconds = await enqueueBatched(url, queue, n, 1000, 1);
    }
    const drained = await drainWithWorker(url, queue, { serverPid: server.child.pid });
    return {
      id: `W1-${mode}`,
      workload: `W1 throughput, enqueue ${LABELS[mode]}`,
      n,
      enqueuePerSec: Math.round(n / enqueueSeconds),
      processPerSec: Math.round(n / drained.seconds),
      wallSeconds: round(enqueueSeconds + drained.seconds),
      serverPeakRssMiB: peakRssMiB(server.child.pid),
      workerPeakRssMiB: drained.workerPeakRssMiB,
    };
  });
}
