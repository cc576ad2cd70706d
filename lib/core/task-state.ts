/**
 * The task model and its state machine.
 *
 *             enqueue (delay)        runAt reached                 poll (lease)
 *   producer ─────────────────► scheduled ───────► pending ─────────────────────► running
 *       │ enqueue                    ▲                ▲  │                           │
 *       └────────────────────────────┼────────────────┘  │ scheduleToStart ─► timed_out
 *                                    │  retry backoff     │ cancel ─────────► canceled
 *                                    └──────────────────────────────────────────────┤ fail / lease timeout
 *                                                                                    │ (retries left)
 *   running ── complete ──► completed          running ── fail, no retries left ──► failed
 *   running ── cancel requested, then handler ends ──► canceled
 *   running ── start-to-close / heartbeat timeout, no retries left ──► timed_out
 *   any live ── schedule-to-close deadline ──► timed_out
 *   failed | timed_out ── dead requeue (fresh attempt budget) ──► pending
 *
 * What each transition persists (lib/store ops, in the order of the single writer):
 *   enqueue             tasks.insert         awaited: the producer's 201 follows the fsync
 *   poll                tasks.markDispatched staged: the poll reply does not wait for it; if it is
 *                                            lost in a crash the task is dispatchable again at once
 *   complete/fail       tasks.saveState + attempts.insert   awaited
 *   heartbeat           tasks.recordHeartbeat awaited: details must survive a crash
 *   cancel, requeue     tasks.saveState      awaited
 *   timer transitions   tasks.saveState (+ attempts.insert) staged: every timer is recomputed
 *                                            from persisted fields at boot, so a lost write only
 *                                            delays the same transition to the next start
 *
 * `attempt` counts dispatches over the task's life: 0 before the first. `budgetStart` is the
 * attempt count when the current retry budget began (0, or the count at a dead-letter requeue).
 */
import type { TaskOptions } from "./task-options.ts";

export { LiveTask, liveTaskOfRecord, recordOfLiveTask, type LiveTaskCore } from "./live-task.ts";

export type LiveTaskState = "scheduled" | "pending" | "running";
export type FinalTaskState = "completed" | "failed" | "canceled" | "timed_out";
export type TaskState = LiveTaskState | FinalTaskState;

/** How an attempt ended, in the attempt history. */
export type AttemptOutcome = "completed" | "failed" | "timed_out" | "canceled";

/** The lease a running task is held under (its worker and start are on the task). */
export interface Lease {
  token: string;
  /** Epoch ms: min(start + startToClose, last heartbeat + heartbeat timeout). */
  deadline: number;
}

/** A task's error, kept as parsed fields plus its JSON text. */
export interface TaskFailure {
  type: string;
  message: string;
  nonRetryable?: boolean | undefined;
}

/** The full persisted form of a task, as the store reads and writes it. */
export interface TaskRecord {
  id: string;
  seq: number;
  queue: string;
  type: string;
  state: TaskState;
  /** 1 (first) to 5. */
  priority: number;
  /** Tasks of one key share dispatches fairly with other keys' tasks; undefined = the shared key. */
  fairnessKey: string | undefined;
  /** Producer-set headers that traffic rules match on. */
  headers: Readonly<Record<string, string>> | undefined;
  /** Routing: the queue the producer named, when a traffic rule sent the task elsewhere. */
  routedFrom: string | undefined;
  routeRuleId: string | undefined;
  /** Where the task moves if it has not started by `fallbackAt` (epoch ms). */
  fallbackQueue: string | undefined;
  fallbackAt: number | undefined;
  attempt: number;
  budgetStart: number;
  inputJson: string | undefined;
  resultJson: string | undefined;
  /** `{"type","message"[,"nonRetryable"]}` as JSON text. */
  errorJson: string | undefined;
  heartbeatJson: string | undefined;
  options: TaskOptions;
  /** Epoch ms at which a scheduled task becomes pending. */
  runAt: number | undefined;
  /** Epoch ms since which the task has been pending (for schedule-to-start). */
  readyAt: number | undefined;
  /** Epoch ms: the schedule-to-close deadline, if the task has one. */
  closeDeadline: number | undefined;
  cancelRequested: boolean;
  /** The running attempt's token; kept on a final task so a repeated settle is recognised. */
  leaseToken: string | undefined;
  /** Epoch ms; undefined when not known (never dispatched, or the dispatch record was lost). */
  leaseDeadline: number | undefined;
  /** Identity of the worker of the latest attempt. */
  worker: string | undefined;
  createdAt: number;
  /** Epoch ms when the latest attempt started. */
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

/** One ended attempt, for the attempt history. */
export interface AttemptRecord {
  taskId: string;
  attempt: number;
  worker: string;
  startedAt: number;
  endedAt: number;
  outcome: AttemptOutcome;
  errorJson: string | undefined;
}

export function isFinalState(state: TaskState): state is FinalTaskState {
  return state === "completed" || state === "failed" || state === "canceled" || state === "timed_out";
}

/**
 * The attempt that ended a final task, rebuilt from the task's own columns. The attempt history
 * stores only attempts that did not end their task (they would otherwise be overwritten by the
 * next attempt); the last one lives on the task row, which saves a write per finished task.
 */
export function finalAttemptOf(record: TaskRecord, stored: readonly AttemptRecord[]): AttemptRecord | undefined {
  if (!isFinalState(record.state) || record.attempt === 0 || record.startedAt === undefined) return undefined;
  if (stored.some((attempt) => attempt.attempt === record.attempt)) return undefined;
  return {
    taskId: record.id,
    attempt: record.attempt,
    worker: record.worker ?? "",
    startedAt: record.startedAt,
    endedAt: record.finishedAt ?? record.startedAt,
    outcome: record.state,
    errorJson: record.state === "completed" ? undefined : record.errorJson,
  };
}
