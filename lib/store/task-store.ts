/**
 * The storage port the daemon uses: named write operations committed in groups, and the few
 * reads it needs. SQL lives only behind this interface (lib/store).
 */
import type { FinalCount, FinalTaskState, TaskRecord } from "../core/index.ts";

/** One named write. Each maps to one prepared statement. */
export type StoreOp =
  | { op: "tasks.insert"; task: TaskRecord }
  | { op: "tasks.markDispatched"; id: string; attempt: number; leaseToken: string; leaseDeadline: number; worker: string; startedAt: number }
  | { op: "tasks.markPending"; id: string; attempt: number }
  | { op: "tasks.recordHeartbeat"; id: string; heartbeatJson: string | undefined; leaseDeadline: number }
  | { op: "tasks.markFinished"; id: string; state: FinalTaskState; attempt: number; leaseToken: string; worker: string; startedAt: number; resultJson: string | undefined; errorJson: string | undefined; finishedAt: number };

/** What the daemon loads at boot to rebuild the core. */
export interface LiveSnapshot {
  live: TaskRecord[];
  finalCounts: FinalCount[];
  maxSeq: number;
}

/** Commit statistics, for metrics and benchmarks. */
export interface CommitStats {
  commits: number;
  opsCommitted: number;
  lastBatchOps: number;
}

export interface TaskStore {
  /**
   * Commits `ops` in the next group commit; resolves once they are durable (fsynced). If the
   * commit fails, rejects and nothing of `ops` was written.
   */
  commit(ops: StoreOp[]): Promise<void>;
  /** Adds `ops` to the next group commit without waiting: for writes a crash may lose. */
  stage(ops: StoreOp[]): void;
  readTask(id: string): TaskRecord | undefined;
  loadLive(): Promise<LiveSnapshot>;
  stats(): CommitStats;
  /** Commits what is staged, then closes. */
  close(): Promise<void>;
}
