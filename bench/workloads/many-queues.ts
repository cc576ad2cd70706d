/**
 * W5 many queues: Q queues (default 100,000) with one task each, then idle.
 *
 * 1. 16 concurrent producers enqueue one task to each of `w5-0` ... `w5-{Q-1}`;
 *    the daemon's VmRSS is read with all Q queues holding their task: right after the last
 *    enqueue (the heap still holds the requests' garbage), and again after 15 s idle (1 s
 *    in smoke-sized runs), as W4 does for its backlog. The target's "then idle" is this one.
 * 2. The tasks are processed: 32 concurrent loops each poll a queue (`max: 1`, `waitMs: 0`) and
 *    complete the task, over the HTTP API as a worker does. (One `tqd work` process per queue
 *    is not a real deployment at this count, and `tqd work` serves the queues it is given.)
 * 3. Idle: the bench waits until `tqd_queues_in_memory` is 0 (queues leave memory at the next
 *    sweep once their pollers expire, within about 7 s), then one second more, and reads VmRSS
 *    and the JS heap. The first `/metrics` call waits for that point when Q is large, so a
 *    metrics page listing every queue is not part of what is measured.
 */
import type { BenchOptions } from "../support/options.ts";
import type { Report } from "../support/report.ts";
import { enqueueOne, metrics, post } from "../support/tqd-api.ts";
import { peakRssMiB, rssMiB, withDaemon } from "../support/tqd-process.ts";

const PRODUCERS = 16;
const CONSUMERS = 32;
const IDLE_TIMEOUT_MS = 60_000;
/** Idle time before the settled reading with the tasks (as W4's). */
const SETTLE_MS = 15_000;

export async function runManyQueues(options: BenchOptions, report: Report): Promise<void> {
  const q = options.w5Queues;
  report.add(
    await withDaemon(async ({ url, server }) => {
      const pid = server.child.pid;
      const enqueueSeconds = await forEachQueue(q, PRODUCERS, (name) => enqueueOne(url, name));
      const rssWithTasksMiB = rssMiB(pid);
      await new Promise((resolve) => setTimeout(resolve, q > 10_000 ? SETTLE_MS : 1_000));
      const rssWithTasksSettledMiB = rssMiB(pid);
      const processSeconds = await forEachQueue(q, CONSUMERS, (name) => pollAndComplete(url, name));
      const peak = peakRssMiB(pid);
      const idle = await waitForIdle(url, q > 10_000);
      return {
        id: "W5",
        workload: "W5 many queues, one task each, then idle",
        queues: q,
        enqueuePerSec: Math.round(q / enqueueSeconds),
        processPerSec: Math.round(q / processSeconds),
        serverRssWithTasksMiB: rssWithTasksMiB,
        serverRssWithTasksSettledMiB: rssWithTasksSettledMiB,
        serverPeakRssMiB: peak,
        serverRssIdleMiB: rssMiB(pid),
        heapIdleMiB: idle.heapMiB,
      };
    }),
  );
}

/** Runs `fn` once for each queue name `w5-0` ... from `loops` concurrent loops; returns seconds. */
async function forEachQueue(q: number, loops: number, fn: (queue: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (next < q) await fn(`w5-${next++}`);
    }),
  );
  return (performance.now() - start) / 1000;
}

async function pollAndComplete(url: string, queue: string): Promise<void> {
  const { tasks } = (await post(`${url}/v1/queues/${queue}/poll`, { identity: "bench-w5", types: ["noop"], max: 1, waitMs: 0 })) as { tasks: { id: string; leaseToken: string }[] };
  const task = tasks[0];
  if (!task) throw new Error(`W5: queue ${queue} had no task`);
  await post(`${url}/v1/tasks/${encodeURIComponent(task.id)}/complete`, { leaseToken: task.leaseToken });
}

async function waitForIdle(url: string, large: boolean): Promise<{ heapMiB: number | undefined }> {
  const deadline = performance.now() + IDLE_TIMEOUT_MS;
  if (large) await new Promise((r) => setTimeout(r, 7_500));
  for (;;) {
    const now = await metrics(url);
    if (now.tqd_queues_in_memory === 0) {
      await new Promise((r) => setTimeout(r, 1_000));
      const settled = await metrics(url);
      const heap = settled.tqd_heap_used_bytes;
      return { heapMiB: heap === undefined ? undefined : Math.round(heap / 2 ** 20) };
    }
    if (performance.now() > deadline) throw new Error(`W5: ${now.tqd_queues_in_memory} queues still in memory after ${IDLE_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
