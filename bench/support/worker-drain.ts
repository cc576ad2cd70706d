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
 * holds). `serverPid` is sampled for its RSS. `everyMs` is the poll interval of the daemon's
 * live count: small for short drains, larger for long ones so the observer stays cheap.
 */
export async function drainWithWorker(url: string, queue: string, options: { remaining?: number; serverPid?: number; everyMs?: number } = {}): Promise<Drained> {
  const remaining = options.remaining ?? 0;
  const before = await liveTasks(url);
  const worker = spawnNoopWorker(url, queue, 32);
  const start = performance.now();
  let workerPeakRss: number | undefined;
  let serverMaxRss: number | undefined;
  try {
    for (;;) {
      const live = await liveTasks(url);
      workerPeakRss = peakRssMiB(worker.child.pid) ?? workerPeakRss;
      serverMaxRss = Math.max(serverMaxRss ?? 0, rssMiB(options.serverPid) ?? 0) || undefined;
      if (live <= remaining) return { seconds: (performance.now() - start) / 1000, tasks: before - live, workerPeakRssMiB: workerPeakRss, serverMaxRssMiB: serverMaxRss };
      if (worker.child.exitCode !== null) throw new Error(`tqd work exited:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, options.everyMs ?? 20));
    }
  } finally {
    await worker.stop();
  }
}
