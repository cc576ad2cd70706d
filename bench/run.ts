/**
 * Benchmarks of the compiled `dist/tqd` (or `$TQD_BIN`), driven over HTTP (the `-stream` rows:
 * tqd's client on the stream) and with real worker processes, as users run it. Prints one JSON line per result, then a table. `--smoke` runs each
 * workload with a tiny N so CI keeps the benchmarks from rotting; timings are never asserted.
 *
 *   W1      throughput: N no-op tasks enqueued one by one and batched (and one by one on the
 *           stream), drained by one worker
 *   W2      round trip: an idle worker is polling; sequential enqueue -> completion observed
 *           (over HTTP, then on the stream)
 *   W3      fan-in: 16 concurrent producers enqueuing one by one (where group commit shows),
 *           over HTTP, then on the stream
 *   W4      deep backlog: 1,000,000 pending tasks, drain, kill -9 + restart to ready
 *   W5      many queues: 100,000 queues with one task each, then idle
 *   cli     `tqd enqueue --lines` with 100,000 inputs on stdin, then single `tqd enqueue` calls
 *   idle    a fresh daemon: start to ready, RSS
 *   limits  this machine's SQLite fsync'd inserts/s and Bun.serve requests/s; tqd as a fraction
 *
 * Each workload lives in bench/workloads/; `bun bench/run.ts --help` lists the options.
 */
import { parseOptions, USAGE, UsageError, type BenchOptions, type WorkloadId } from "./support/options.ts";
import { Report } from "./support/report.ts";
import { runCliEnqueue } from "./workloads/cli-enqueue.ts";
import { runDeepBacklog } from "./workloads/deep-backlog.ts";
import { runFanIn } from "./workloads/fan-in.ts";
import { runIdleDaemon } from "./workloads/idle-daemon.ts";
import { runMachineLimits } from "./workloads/machine-limits.ts";
import { runManyQueues } from "./workloads/many-queues.ts";
import { runRoundTrip } from "./workloads/round-trip.ts";
import { runThroughput } from "./workloads/throughput.ts";

/** In run order: limits last, so it can relate the tqd results of the same run to the limits. */
const WORKLOADS: [WorkloadId, (options: BenchOptions, report: Report) => Promise<void>][] = [
  ["W1", runThroughput],
  ["W2", runRoundTrip],
  ["W3", runFanIn],
  ["W4", runDeepBacklog],
  ["W5", runManyQueues],
  ["cli", runCliEnqueue],
  ["idle", runIdleDaemon],
  ["limits", runMachineLimits],
];

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  const report = new Report(options.smoke);
  for (const [id, run] of WORKLOADS) if (options.only.has(id)) await run(options, report);
  report.printTable();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
