/**
 * The storage port the daemon uses: named write operations committed in groups, and the few
 * reads it needs. SQL lives only behind this interface (lib/store).
 */
import type {
  AttemptRecord,
  ColdLine,
  LiveTasksAtBoot,
  FinalTaskState,
  QueueSettings,
  StoredWorkflowEvent,
  TaskRecord,
  WorkflowLink,
  WorkflowRecord,
  WorkflowSession,
  WorkflowTimer,
} from "../core/index.ts";
import type { Histogram } from "../metrics/histogram.ts";
import type { FinalCountRow } from "./final-counts.ts";
import type { StoredQueue } from "./queue-statements.ts";
import type { RouteVersion } from "./route-statements.ts";

/** One named write. Each maps to one prepared statement. */
export type StoreOp =
  | { op: "tasks.insert"; task: TaskRecord }
  /** The hot path of every dispatch: only the lease columns. `seq` finds the row without the id index. */
  | { op: "tasks.markDispatched"; id: string; seq: number; attempt: number; leaseToken: string; leaseDeadline: number; worker: string; startedAt: number }
  /** Every mutable column of a task, for all other transitions. */
  | { op: "tasks.saveState"; task: TaskRecord }
  /** A final task (`fromState`, in its queue) made pending again: its row moves from `fromSeq` to the task's new seq, saved whole. */
  | { op: "tasks.revive"; task: TaskRecord; fromSeq: number; fromState: FinalTaskState }
  | { op: "tasks.recordHeartbeat"; id: string; seq: number; heartbeatJson: string | undefined; leaseDeadline: number }
  /** Deletes a task and its attempt history. */
  | { op: "tasks.delete"; id: string; seq: number }
  | { op: "attempts.insert"; attempt: AttemptRecord }
  | { op: "queues.saveSettings"; name: string; settings: QueueSettings }
  /** Staged at most every few minutes per queue: the typo guard's memory of recent polls. */
  | { op: "queues.touchPolled"; name: string; at: number }
  | { op: "routes.saveVersion"; version: RouteVersion }
  /** Inserts or replaces a workflow execution row. */
  | { op: "workflow.save"; workflow: WorkflowRecord }
  /** Deletes an execution with its history, links, sessions and timers (a new run replaces it). */
  | { op: "workflow.delete"; id: string }
  | { op: "workflow.appendEvent"; event: StoredWorkflowEvent }
  | { op: "workflow.insertLink"; link: WorkflowLink }
  | { op: "workflow.deleteLink"; taskId: string }
  | { op: "workflow.saveSession"; session: WorkflowSession }
  | { op: "workflow.insertTimer"; timer: WorkflowTimer }
  | { op: "workflow.deleteTimer"; workflowId: string; seq: number };

/** What the daemon loads at boot to rebuild the core. */
export interface LiveSnapshot {
  /**
   * The live tasks in enqueue order, read from the store while they are iterated (a boot of a
   * million tasks never holds them all as records at once): iterate once, before any other
   * call. Where each belongs first; whole rows, inputs left in the store (`inputJson`
   * undefined, see `readInput`), only for those the core keeps in memory.
   */
  live: LiveTasksAtBoot;
  queues: StoredQueue[];
  /** The rules in force for each queue that has any. */
  routes: RouteVersion[];
  maxSeq: number;
}

export type { FinalCountRow, RouteVersion, StoredQueue };

/** What the daemon loads at boot for the workflows still running. */
export interface RunningWorkflows {
  workflows: WorkflowRecord[];
  links: WorkflowLink[];
  sessions: WorkflowSession[];
  timers: WorkflowTimer[];
}

export interface WorkflowListFilter {
  queue?: string | undefined;
  state?: string | undefined;
  limit: number;
}

/** A final task's identity, for deletions that must adjust counts. */
export interface FinalTaskRef {
  id: string;
  seq: number;
  queue: string;
  state: FinalTaskState;
}

/** Commit statistics, for metrics and benchmarks. */
export interface CommitStats {
  commits: number;
  opsCommitted: number;
  lastBatchOps: number;
  batchSizes: Histogram;
  commitSeconds: Histogram;
}

export interface TaskStore {
  /**
   * Commits `ops` in the next group commit; resolves once they are durable (fsynced). If the
   * commit fails, rejects and nothing of `ops` was written. `patient`: nobody is blocked on
   * the answer (a stream worker's acknowledgements), so under load it may wait a little for a
   * larger commit (see group-commit.ts).
   */
  commit(ops: StoreOp[], options?: { patient?: boolean }): Promise<void>;
  /**
   * Adds `ops` to the next group commit without waiting: for writes a crash may lose. With
   * `rideAlong`, they start no commit of their own: they join the next awaited one, or go out
   * STAGED_FLUSH_MS later (dispatch records: losing one only makes its task pending again).
   */
  stage(ops: StoreOp[], options?: { rideAlong?: boolean }): void;
  readTask(id: string): TaskRecord | undefined;
  /** The tasks with these ids that exist (live or final), by id: readTask for many at once. */
  readTasks(ids: readonly string[]): Map<string, TaskRecord>;
  /**
   * A task's input (undefined when it has none). Memory holds a live task's input only while
   * it is being created or leased; dispatch and reads of a live task fetch it here.
   */
  readInput(id: string, seq: number): string | undefined;
  /**
   * The tasks of one ready line with these seqs that are still pending, ascending, inputs left
   * out: the tasks of a deep backlog that wait here only (see lib/core/cold-tail.ts).
   */
  loadCold(line: ColdLine, seqs: readonly number[]): TaskRecord[];
  readAttempts(id: string): AttemptRecord[];
  /** Failed and timed-out tasks of a queue, oldest first. */
  listDead(queue: string, limit: number): TaskRecord[];
  /**
   * Final tasks finished before `before` (epoch ms), oldest first: all final states, or only
   * the dead ones of `queue`.
   */
  listFinishedBefore(before: number, limit: number, scope?: { deadOfQueue: string }): FinalTaskRef[];
  loadLive(): Promise<LiveSnapshot>;
  /** Final tasks counted by queue and state, for queues whose name starts with `prefix`. */
  finalCounts(prefix: string): FinalCountRow[];
  finalCountsOf(queue: string): FinalCountRow[];
  routeHistory(queue: string): RouteVersion[];
  readWorkflow(id: string): WorkflowRecord | undefined;
  /** Events with id > `after`, ascending, at most `limit`. */
  readWorkflowEvents(id: string, after: number, limit: number): StoredWorkflowEvent[];
  readWorkflowSessions(id: string): WorkflowSession[];
  /** Newest first. */
  listWorkflows(filter: WorkflowListFilter): WorkflowRecord[];
  loadRunningWorkflows(): RunningWorkflows;
  /** Ids of executions closed before `before` (epoch ms), oldest first. */
  listWorkflowsClosedBefore(before: number, limit: number): string[];
  stats(): CommitStats;
  /** Commits what is staged, then closes. */
  close(): Promise<void>;
}
