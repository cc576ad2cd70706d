/**
 * CLI enqueue: what a shell script with many tasks runs. `tqd enqueue QUEUE TYPE --lines` with N
 * inputs (the W1 payload, one per line) on stdin into a fresh daemon, one command; then single
 * `tqd enqueue` calls, a process each, for comparison. Reports tasks/s of each and the CPU of
 * the CLI and of the daemon per task of the `--lines` run.
 */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { PAYLOAD } from "../support/tqd-api.ts";
import { cpuMs, TQD_BIN, withDaemon } from "../support/tqd-process.ts";

export async function runCliEnqueue(options: BenchOptions, report: Report): Promise<void> {
  const line = JSON.stringify(PAYLOAD);
  const stdin = Array.from({ length: options.cliLines }, () => line).join("\n") + "\n";
  await withDaemon(async ({ url, server }) => {
    const daemonCpu0 = cpuMs(server.child.pid);
    const start = performance.now();
    const bulk = Bun.spawn([TQD_BIN, "enqueue", "cli-lines", "noop", "--lines", "--server", url], { stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
    const [ids, errors, code] = await Promise.all([new Response(bulk.stdout).text(), new Response(bulk.stderr).text(), bulk.exited]);
    const seconds = (performance.now() - start) / 1000;
    const daemonCpu = cpuMs(server.child.pid) - daemonCpu0;
    const enqueued = ids.split("\n").filter((id) => id !== "").length;
    if (code !== 0 || enqueued !== options.cliLines) throw new Error(`tqd enqueue --lines exited ${code} with ${enqueued} of ${options.cliLines} ids:\n${errors}`);
    const cliCpuMs = Number(bulk.resourceUsage()?.cpuTime.total ?? NaN) / 1000;

    const singleStart = performance.now();
    for (let i = 0; i < options.cliSingles; i++) {
      const single = Bun.spawn([TQD_BIN, "enqueue", "cli-single", "noop", line, "--server", url], { stdout: "ignore", stderr: "pipe" });
      const [singleErrors, singleCode] = await Promise.all([new Response(single.stderr).text(), single.exited]);
      if (singleCode !== 0) throw new Error(`tqd enqueue exited ${singleCode}:\n${singleErrors}`);
    }
    const singleSeconds = (performance.now() - singleStart) / 1000;
    report.add({
      id: "cli",
      workload: "CLI: tqd enqueue --lines (stdin), then single calls",
      lines: options.cliLines,
      linesPerSec: Math.round(options.cliLines / seconds),
      linesCliCpuUsPerTask: round((cliCpuMs * 1000) / options.cliLines, 1),
      linesDaemonCpuUsPerTask: round((daemonCpu * 1000) / options.cliLines, 1),
      singleCalls: options.cliSingles,
      singleCallsPerSec: round(options.cliSingles / singleSeconds, 1),
    });
  });
}
