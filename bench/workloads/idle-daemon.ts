/**
 * Idle daemon: a fresh `tqd serve` on an empty data directory, started K times (5; smoke 2).
 * Start to ready is spawn -> first `200` of `GET /readyz`; RSS is VmRSS one second after ready,
 * with nothing connected but the bench's readiness probe. Medians are reported.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { freePort, rssMiB, startTimed } from "../support/tqd-process.ts";

export async function runIdleDaemon(options: BenchOptions, report: Report): Promise<void> {
  const readyMs: number[] = [];
  const selfReportedMs: number[] = [];
  const idleRssMiB: number[] = [];
  for (let i = 0; i < options.idleStarts; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), "tqd-bench-idle-"));
    const started = await startTimed(dataDir, await freePort());
    try {
      readyMs.push(started.readyMs);
      if (started.selfReportedMs !== undefined) selfReportedMs.push(started.selfReportedMs);
      await new Promise((r) => setTimeout(r, 1_000));
      const rss = rssMiB(started.server.child.pid);
      if (rss !== undefined) idleRssMiB.push(rss);
    } finally {
      await started.server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  report.add({
    id: "idle",
    workload: "Idle daemon: start to ready, RSS",
    starts: options.idleStarts,
    readyMedianMs: round(median(readyMs) ?? NaN, 1),
    readyMinMs: round(Math.min(...readyMs), 1),
    readyMaxMs: round(Math.max(...readyMs), 1),
    selfReportedReadyMedianMs: median(selfReportedMs),
    idleRssMedianMiB: median(idleRssMiB),
  });
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
