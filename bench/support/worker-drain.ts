/** Real `tqd work` processes running the no-op handlers, and draining a queue with one. */
import { resolve } from "node:path";
import { liveTasks } from "./tqd-api.ts";
import { peakRssMiB, rssMiB, spawnTqd, type Spawned } from "./tqd-process.ts";

const NOOP_HANDLERS = resolve(import.meta.dirname, "../noop-handlers.ts");
const WORKFLOW_HANDLERS = resolve(import.meta.dirname, "../workflow-handlers.ts");

/** `tqd work bench/noop-handlers.ts --queue QUEUE --concurrency N` against `url`. */
export function spawnNoopWorker(url: string, queue: string, concurrency: number): Spawned {
  return spawnTqd(["work", NOOP_HANDLERS, "--queue", queue, "--concurrency", String(concurrency), "--server", url, "--log-level", "warn"]);
}

/** `tqd work bench/workflow-handlers.ts` (the `chain` workflow and its `step`), as above. */
export function spawnWorkflowWorker(url: string, queue: string, concurrency: number): Spawned {
  return spawnTqd(["work", WORKFLOW_HANDLERS, "--queue", queue, "--concurrency", String(concurrency), "--server", url, "--log-level", "warn"]);
}

export interface Drained {
  /** From the worker's spawn (or the release of a running worker's tasks) until the live tasks fell to the target. */
  seconds: number;
  tasks: number;
  workerPeakRssMiB: number | undefined;
  /** Highest VmRSS of the daemon seen while draining. */
  serverMaxRssMiB: number | undefined;
}

/**
 * Spawns `tqd work` (concurrency 32) on `queue` and waits until the daemon holds at most
 * `remaining` live tasks (0: all done), then stops the worker gracefully (it finishes what it
 * holds). Timed from the worker's spawn. `serverPid` is sampled for its RSS.
 */
export async function drainWithWorker(url: string, queue: string, options: DrainOptions = {}): Promise<Drained> {
  const before = await liveTasks(url);
  const worker = spawnNoopWorker(url, queue, 32);
  try {
    return await timeDrain(url, worker, before, performance.now(), options);
  } finally {
    await worker.stop();
  }
}

/**
 * Times a drain by a worker that is already running (warm): `release` lets the tasks go (a
 * resume of their paused queue), and the clock starts right before it.
 */
export async function drainWithRunningWorker(url: string, worker: Spawned, release: () => Promise<void>, options: DrainOptions = {}): Promise<Drained> {
  const before = await liveTasks(url);
  const start = performance.now();
  await release();
  return timeDrain(url, worker, before, start, options);
}

export interface DrainOptions {
  /** Live tasks at which the drain counts as done (0: all). */
  remaining?: number;
  /** The daemon's pid, sampled for its RSS. */
  serverPid?: number;
  /** The finest interval between reads of the daemon's live count (see timeDrain). */
  everyMs?: number;
}

/**
 * Waits until `worker` has brought the daemon down to at most `remaining` live tasks (from
 * `before`); the drain's time is counted from `start`. `everyMs` is the finest interval
 * between reads of the daemon's live count (the resolution of the end): small for short
 * drains, larger for long ones. While the end is far, the reads are spaced out to a quarter
 * of the time the drain so far says is left (at most MAX_READ_GAP_MS): each read renders
 * `/metrics`, and every 20 ms that was about 4 % of the daemon's CPU in a one-second drain.
 */
export async function timeDrain(url: string, worker: Spawned, before: number, start: number, options: DrainOptions): Promise<Drained> {
  const remaining = options.remaining ?? 0;
  let workerPeakRss: number | undefined;
  let serverMaxRss: number | undefined;
  /** The first read that saw tasks done: the rate is measured from there, without the worker's start. */
  let firstProgress: { at: number; live: number } | undefined;
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
}

const MAX_READ_GAP_MS = 250;

/** The wait before the next read: a quarter of the estimated time left, never under `finestMs`. */
function readGapMs(done: number, left: number, elapsedMs: number, finestMs: number): number {
  if (done <= 0) return finestMs;
  const leftMs = (left * elapsedMs) / done;
  return Math.max(finestMs, Math.min(MAX_READ_GAP_MS, leftMs / 4));
}
