/** Real `tqd work` processes running the no-op handlers, and draining a queue with one. */
import { resolve } from "node:path";
import { liveTasks } from "./tqd-api.ts";
import { peakRssMiB, rssMiB, spawnTqd, type Spawned } from "./tqd-process.ts";

const NOOP_HANDLERS = resolve(import.meta.dirname, "../noop-handlers.ts");

/** `tqd work bench/noop-handlers.ts --queue QUEUE --concurrency N` against `url`. */
export function spawnNoopWorker(url: string, queue: string, concurrency: number): Spawned {
  return spawnTqd(["work", NOOP_HANDLERS, "--queue", queue, "--concurrency", String(concurrency), "--server", url, "--log-level", "warn"]);
}

export interface Drained {
  /** From the worker's spawn until the daemon's live tasks fell to the target. */
  seconds: number;
  tasks: number;
  workerPeakRssMiB: number | undefined;
  /** Highest VmRSS of the daemon seen while draining. */
  serverMaxRssMiB: number | undefined;
}

/**
 * Spawns `tqd work` (concurrency 32) on `queue` and waits until the daemon holds at most
 * `remaining` live tasks (0: all done), then stops the worker gracefully (it finishes what it
 * holds). `serverPid` is sampled for its RSS. `everyMs` is the finest interval between reads
 * of the daemon's live count (the resolution of the end): small for short drains, larger for
 * long ones. While the end is far, the reads are spaced out to a quarter of the time the drain
 * so far says is left (at most MAX_READ_GAP_MS): each read renders `/metrics`, and every 20 ms
 * that was about 4 % of the daemon's CPU in a one-second drain.
 */
export async function drainWithWorker(url: string, queue: string, options: { remaining?: number; serverPid?: number; everyMs?: number } = {}): Promise<Drained> {
  const remaining = options.remaining ?? 0;
  const before = await liveTasks(url);
  const worker = spawnNoopWorker(url, queue, 32);
  const start = performance.now();
  let workerPeakRss: number | undefined;
  let serverMaxRss: number | undefined;
  /** The first read that saw tasks done: the rate is measured from there, without the worker's start. */
  let firstProgress: { at: number; live: number } | undefined;
  try {
    for (;;) {
      const live = await liveTasks(url);
      workerPeakRss = peakRssMiB(worker.child.pid) ?? workerPeakRss;
      serverMaxRss = Math.max(serverMaxRss ?? 0, rssMiB(options.serverPid) ?? 0) || undefined;
      if (live <= remaining) return { seconds: (performance.now() - start) / 1000, tasks: before - live, workerPeakRssMiB: workerPeakRss, serverMaxRssMiB: serverMaxRss };
      if (worker.child.exitCode !== null) throw new Error(`tqd work exited:\n${worker.output()}`);
      const now = performance.now();
      if (live < before) firstProgress ??= { at: now, live };
      const gapMs = firstProgress ? readGapMs(firstProgress.live - live, live - remaining, now - firstProgress.at, options.everyMs ?? 20) : (options.everyMs ?? 20);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    await worker.stop();
  }
}

const MAX_READ_GAP_MS = 250;

/** The wait before the next read: a quarter of the estimated time left, never under `finestMs`. */
function readGapMs(done: number, left: number, elapsedMs: number, finestMs: number): number {
  if (done <= 0) return finestMs;
  const leftMs = (left * elapsedMs) / done;
  return Math.max(finestMs, Math.min(MAX_READ_GAP_MS, leftMs / 4));
}
