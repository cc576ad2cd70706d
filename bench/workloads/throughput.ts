/**
 * W1 throughput: N no-op tasks enqueued one by one (each awaited) and, on a fresh daemon,
 * batched (1,000 per call); then drained by one `tqd work` process at concurrency 32. Then one by
 * one again from a client on the stream (`W1-single-stream`).
 *
 * Each mode then runs a second round on the same daemon and worker (`-warm`): another N
 * enqueued while the queue is paused, then drained from the resume. The first round is a cold
 * start (a new daemon, a new worker: its drain is about half JIT warm-up, see bench/NOTES.md);
 * the second is what a daemon and workers that have been running a while do.
 */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { enqueueBatched, enqueueOne, enqueueOneOverStream, liveTasks, pauseQueue, resumeQueue, streamProducer } from "../support/tqd-api.ts";
import { cpuMs, minorFaults, peakRssMiB, withDaemon } from "../support/tqd-process.ts";
import { drainWithRunningWorker, spawnNoopWorker, timeDrain } from "../support/worker-drain.ts";

type Mode = "single" | "batch" | "single-stream";

export async function runThroughput(options: BenchOptions, report: Report): Promise<void> {
  for (const mode of ["single", "batch", "single-stream"] as const) {
    for (const result of await throughput(options.w1Tasks, mode)) report.add(result);
  }
}

const LABELS = { single: "one by one", batch: "batched 1000", "single-stream": "one by one over the stream" };

/** Enqueues `n` tasks in `mode`; returns the seconds it took. */
async function enqueueRound(url: string, queue: string, n: number, mode: Mode): Promise<number> {
  const start = performance.now();
  if (mode === "single") {
    for (let i = 0; i < n; i++) await enqueueOne(url, queue);
  } else if (mode === "single-stream") {
    const producer = streamProducer(url);
    for (let i = 0; i < n; i++) await enqueueOneOverStream(producer, queue);
    producer.close();
  } else {
    return enqueueBatched(url, queue, n, 1000, 1);
  }
  return (performance.now() - start) / 1000;
}

/** The cold round, then the warm one (see the header). */
async function throughput(n: number, mode: Mode) {
  return withDaemon(async ({ url, server }) => {
    const queue = `w1-${mode}`;
    const serverCpu0 = cpuMs(server.child.pid);
    const serverFaults0 = minorFaults(server.child.pid);
    const enqueueSeconds = await enqueueRound(url, queue, n, mode);
    const before = await liveTasks(url);
    const worker = spawnNoopWorker(url, queue, 32);
    try {
      const drained = await timeDrain(url, worker, before, performance.now(), { serverPid: server.child.pid });
      // CPU and page faults a task over the cold round: the daemon's from its ready state, the
      // worker's from its spawn (its start included, as in the drain's timing).
      const perTask = (value: number) => round(value / n, 2);
      const cold = {
        id: `W1-${mode}`,
        workload: `W1 throughput, enqueue ${LABELS[mode]}`,
        n,
        enqueuePerSec: Math.round(n / enqueueSeconds),
        processPerSec: Math.round(n / drained.seconds),
        wallSeconds: round(enqueueSeconds + drained.seconds),
        serverPeakRssMiB: peakRssMiB(server.child.pid),
        workerPeakRssMiB: drained.workerPeakRssMiB,
        serverCpuUsPerTask: perTask((cpuMs(server.child.pid) - serverCpu0) * 1000),
        serverFaultsPerTask: perTask(minorFaults(server.child.pid) - serverFaults0),
        workerCpuUsPerTask: perTask(cpuMs(worker.child.pid) * 1000),
        workerFaultsPerTask: perTask(minorFaults(worker.child.pid)),
      };
      await pauseQueue(url, queue);
      const warmEnqueueSeconds = await enqueueRound(url, queue, n, mode);
      const warmDrained = await drainWithRunningWorker(url, worker, () => resumeQueue(url, queue), { serverPid: server.child.pid });
      const warm = {
        id: `W1-${mode}-warm`,
        workload: `W1 ${LABELS[mode]}, second round (warm)`,
        n,
        enqueuePerSec: Math.round(n / warmEnqueueSeconds),
        processPerSec: Math.round(n / warmDrained.seconds),
      };
      return [cold, warm];
    } finally {
      await worker.stop();
    }
  });
}
