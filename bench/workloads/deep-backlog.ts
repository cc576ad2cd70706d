/**
 * W4 deep backlog: N pending tasks (default 1,000,000) enqueued in batches of 1,000 by 4
 * concurrent producers; VmRSS right after the last enqueue and again after 15 s idle (the
 * backlog itself, without the enqueue requests' garbage); half of them drained by one `tqd work` process at concurrency 32; then
 * the worker stops, the daemon is killed with SIGKILL while the other half is still pending,
 * restarted on the same data directory, and timed from spawn to its first `200` on `/readyz`;
 * then a new worker drains the rest.
 *
 * The worker is stopped (gracefully) before the kill so that no task should be running at the
 * crash; the restart must find exactly the live tasks it was killed with (checked). Tasks still
 * `running` at the kill have no worker, so only their lease expiry (default 5 min) ends them:
 * they are reported as `strandedAtKill` (expected 0) and the last drain does not wait for them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "../support/options.ts";
import { ratio, round, type Report } from "../support/report.ts";
import { enqueueBatched, liveTasks, queueCounts } from "../support/tqd-api.ts";
import { freePort, peakRssMiB, rssMiB, startTimed, type Spawned } from "../support/tqd-process.ts";
import { drainWithWorker } from "../support/worker-drain.ts";

const QUEUE = "w4";
const PRODUCERS = 4;
const BATCH = 1000;
/** Idle time before the settled RSS reading (1 s in smoke-sized runs). */
const SETTLE_MS = 15_000;

export async function runDeepBacklog(options: BenchOptions, report: Report): Promise<void> {
  const n = options.w4Tasks;
  const everyMs = n > 50_000 ? 100 : 20;
  const dataDir = mkdtempSync(join(tmpdir(), "tqd-bench-w4-"));
  const running: Spawned[] = [];
  try {
    const port = await freePort();
    const first = await startTimed(dataDir, port);
    running.push(first.server);
    const pid = first.server.child.pid;

    const enqueueSeconds = await enqueueBatched(first.url, QUEUE, n, BATCH, PRODUCERS);
    const rssWithBacklogMiB = rssMiB(pid);
    // Right after the burst the heap still holds the requests' garbage; idle, the daemon
    // collects it and the allocator returns the pages within seconds.
    await new Promise((resolve) => setTimeout(resolve, n > 50_000 ? SETTLE_MS : 1_000));
    const rssWithBacklogSettledMiB = rssMiB(pid);
    const half = await drainWithWorker(first.url, QUEUE, { remaining: Math.floor(n / 2), serverPid: pid, everyMs });
    const serverPeakRssMiB = peakRssMiB(pid);
    const atKill = await queueCounts(first.url, QUEUE);
    const liveAtKill = await liveTasks(first.url);

    await first.server.kill();
    const restarted = await startTimed(dataDir, port);
    running.push(restarted.server);
    const restartRssMiB = rssMiB(restarted.server.child.pid);
    const restartPeakRssMiB = peakRssMiB(restarted.server.child.pid);
    const liveAfterRestart = await liveTasks(restarted.url);
    if (liveAfterRestart !== liveAtKill) throw new Error(`W4: ${liveAtKill} live tasks at kill -9, ${liveAfterRestart} after the restart`);
    const rest = await drainWithWorker(restarted.url, QUEUE, { remaining: atKill.running, serverPid: restarted.server.child.pid, everyMs });

    const processPerSec = Math.round(half.tasks / half.seconds);
    report.add({
      id: "W4",
      workload: "W4 deep backlog, drain, kill -9 + restart",
      n,
      enqueuePerSec: Math.round(n / enqueueSeconds),
      processPerSec,
      processVsW1Ratio: ratio(processPerSec, report.find("W1-batch")?.processPerSec),
      processAfterRestartPerSec: Math.round(rest.tasks / rest.seconds),
      serverRssWithBacklogMiB: rssWithBacklogMiB,
      serverRssWithBacklogSettledMiB: rssWithBacklogSettledMiB,
      serverPeakRssMiB,
      pendingAtKill: atKill.pending,
      strandedAtKill: atKill.running,
      restartReadyMs: round(restarted.readyMs, 1),
      restartSelfReportedReadyMs: restarted.selfReportedMs,
      restartRssMiB,
      restartPeakRssMiB,
      restartDrainPeakRssMiB: peakRssMiB(restarted.server.child.pid),
    });
  } finally {
    for (const server of running) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
