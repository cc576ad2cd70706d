/**
 * The task model and its state machine.
 *
 *                enqueue                 poll (lease)
 *   (producer) ──────────► pending ───────────────────► running
 *                             ▲                            │
 *                             │ lease expired / released   │ complete      fail
 *                             └────────────────────────────┤──────────► completed
 *                                                          └──────────► failed
 *
 * What each transition persists (lib/store ops, in order of the single writer):
 *   enqueue      tasks.insert          awaited: the producer's 201 follows the fsync
 *   poll         tasks.markDispatched  staged: the poll reply does not wait for it. If it is lost
 *                                      in a crash the task is simply dispatchable again at once.
 *   expiry       tasks.markPending     staged, for the same reason
 *   heartbeat    tasks.recordHeartbeat awaited: heartbeat details must survive a crash
 *   complete     tasks.markCompleted   awaited
 *   fail         tasks.markFailed      awaited
 *
 * `attempt` counts dispatches: 0 before the first, 1 while the first attempt runs, and so on.
 */

export type LiveTaskState = "pending" | "running";
export type FinalTaskState = "completed" | "failed";
export type TaskState = LiveTaskState | FinalTaskState;

/** The lease a running task is held under. */
export interface Lease {
  token: string;
  /** Epoch ms; past it the task goes back to pending. */
  deadline: number;
  /** The poller's self-chosen identity. */
  worker: string;
  /** Epoch ms when this attempt was dispatched. */
  startedAt: number;
}

/** A task that is not final yet: the in-memory dispatch truth. */
export interface LiveTask {
  readonly id: string;
  /** Global enqueue order; FIFO within a queue follows it. */
  readonly seq: number;
  readonly queue: string;
  readonly type: string;
  /** The input as raw JSON text, never re-serialized; undefined when the producer sent none. */
  readonly inputJson: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Lease length of each attempt, and what a heartbeat extends the lease to. */
  readonly startToCloseMs: number;
  state: LiveTaskState;
  attempt: number;
  lease: Lease | undefined;
  heartbeatJson: string | undefined;
  /** A completion or failure is being committed: the lease must not expire under it. */
  settling: boolean;
}

/** The full persisted form of a task, as the store reads and writes it. */
export interface TaskRecord {
  id: string;
  seq: number;
  queue: string;
  type: string;
  state: TaskState;
  attempt: number;
  inputJson: string | undefined;
  resultJson: string | undefined;
  /** `{"type","message"}` as JSON text. */
  errorJson: string | undefined;
  heartbeatJson: string | undefined;
  startToCloseMs: number;
  leaseToken: string | undefined;
  /** Epoch ms; undefined when not known (never dispatched, or the dispatch record was lost). */
  leaseDeadline: number | undefined;
  worker: string | undefined;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

export function isFinalState(state: TaskState): state is FinalTaskState {
  return state === "completed" || state === "failed";
}

/** The record form of a live task, for reads and inserts. */
export function recordOfLiveTask(task: LiveTask): TaskRecord {
  return {
    id: task.id,
    seq: task.seq,
    queue: task.queue,
    type: task.type,
    state: task.state,
    attempt: task.attempt,
    inputJson: task.inputJson,
    resultJson: undefined,
    errorJson: undefined,
    heartbeatJson: task.heartbeatJson,
    startToCloseMs: task.startToCloseMs,
    leaseToken: task.lease?.token,
    leaseDeadline: task.lease?.deadline,
    worker: task.lease?.worker,
    createdAt: task.createdAt,
    startedAt: task.lease?.startedAt,
    finishedAt: undefined,
  };
}
