/** Command-line options of `bench/run.ts`, and the sizes each workload runs at. */

export const WORKLOAD_IDS = ["W1", "W2", "W3", "W4", "W5", "cli", "idle", "limits"] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface BenchOptions {
  smoke: boolean;
  only: ReadonlySet<WorkloadId>;
  /** W1: tasks per run (enqueued one by one, then batched). */
  w1Tasks: number;
  /** W2: sequential round trips. */
  w2Rounds: number;
  /** W2-idle's rounds, each after a pause of 0.3-1.1 s. */
  w2IdleRounds: number;
  /** W2-workflow's workflows, one after another. */
  w2Workflows: number;
  /** W3: tasks enqueued by the 16 producers together. */
  w3Tasks: number;
  /** W4: backlog size. */
  w4Tasks: number;
  /** W5: queues, one task each. */
  w5Queues: number;
  /** CLI: inputs on `tqd enqueue --lines`' stdin, and single `tqd enqueue` calls after it. */
  cliLines: number;
  cliSingles: number;
  /** Idle daemon: starts to time (median reported). */
  idleStarts: number;
  /** Machine limits: rows inserted into SQLite, and requests sent to Bun.serve per mode. */
  limitRows: number;
  limitRequests: number;
}

export const USAGE = `usage: bun bench/run.ts [--smoke] [--only W1,W2,W3,W4,W5,cli,idle,limits] [--w4-tasks N] [--w5-queues N]
  --smoke        every workload with a tiny N (CI); timings are never asserted
  --only LIST    run only these workloads (comma-separated, case-insensitive)
  --w4-tasks N   W4 backlog size (default 1000000; smoke 2000)
  --w5-queues N  W5 queue count (default 100000; smoke 1000)
env: TQD_BIN=/path/to/tqd (default dist/tqd)`;

export function parseOptions(argv: string[]): BenchOptions {
  const smoke = argv.includes("--smoke");
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const text = argv[at + 1];
    if (text === undefined) throw new UsageError(`${flag} needs a value`);
    return text;
  };
  const count = (flag: string, fallback: number): number => {
    const text = value(flag);
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, not ${text}`);
    return n;
  };
  const known = new Set(["--smoke", "--only", "--w4-tasks", "--w5-queues"]);
  argv.forEach((arg, i) => {
    if (arg.startsWith("--") && !known.has(arg)) throw new UsageError(`unknown option ${arg}`);
    if (!arg.startsWith("--") && !known.has(argv[i - 1] ?? "")) throw new UsageError(`unexpected argument ${arg}`);
  });
  return {
    smoke,
    only: parseOnly(value("--only")),
    w1Tasks: smoke ? 300 : 20_000,
    w2Rounds: smoke ? 30 : 2_000,
    w2IdleRounds: smoke ? 3 : 40,
    w2Workflows: smoke ? 2 : 20,
    w3Tasks: smoke ? 320 : 20_000,
    w4Tasks: count("--w4-tasks", smoke ? 2_000 : 1_000_000),
    w5Queues: count("--w5-queues", smoke ? 1_000 : 100_000),
    cliLines: smoke ? 500 : 100_000,
    cliSingles: smoke ? 3 : 100,
    idleStarts: smoke ? 2 : 5,
    limitRows: smoke ? 5_000 : 200_000,
    limitRequests: smoke ? 500 : 20_000,
  };
}

function parseOnly(text: string | undefined): ReadonlySet<WorkloadId> {
  if (text === undefined) return new Set(WORKLOAD_IDS);
  const selected = new Set<WorkloadId>();
  for (const name of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const id = WORKLOAD_IDS.find((known) => known.toLowerCase() === name.toLowerCase());
    if (!id) throw new UsageError(`unknown workload ${name} (known: ${WORKLOAD_IDS.join(", ")})`);
    selected.add(id);
  }
  if (selected.size === 0) throw new UsageError("--only needs at least one workload");
  return selected;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}
