/**
 * What follows the end of an attempt: retry after a backoff, or a final state. Pure functions of
 * the task, the failure and `now`.
 */
import { backoffMs } from "./task-options.ts";
import type { FinalTaskState, LiveTask, TaskFailure } from "./task-state.ts";

export type AfterFailure = { state: "scheduled"; runAt: number } | { state: FinalTaskState };

/**
 * Decides what a failed attempt leads to. A requested cancel wins; then a non-retryable error or
 * an exhausted budget ends the task (`timed_out` when the attempt timed out, else `failed`); a
 * retry that could not start before the schedule-to-close deadline ends it the same way.
 */
export function decideAfterFailure(task: LiveTask, failure: TaskFailure, attemptTimedOut: boolean, now: number): AfterFailure {
  if (task.cancelRequested) return { state: "canceled" };
  const finalState: FinalTaskState = attemptTimedOut ? "timed_out" : "failed";
  const policy = task.options.retry;
  const nonRetryable = failure.nonRetryable === true || policy.nonRetryableErrorTypes.includes(failure.type);
  const used = task.attempt - task.budgetStart;
  if (nonRetryable || used >= policy.maxAttempts) return { state: finalState };
  const runAt = now + backoffMs(policy, used);
  if (task.closeDeadline !== undefined && runAt >= task.closeDeadline) return { state: finalState };
  return { state: "scheduled", runAt };
}

/** The lease deadline of an attempt: start-to-close is absolute, heartbeats can only shorten it. */
export function leaseDeadline(task: LiveTask, startedAt: number, lastBeatAt: number): number {
  const closeAt = startedAt + task.options.startToCloseMs;
  const heartbeatMs = task.options.heartbeatMs;
  return heartbeatMs === undefined ? closeAt : Math.min(closeAt, lastBeatAt + heartbeatMs);
}

/** The failure recorded for an attempt whose lease ran out. */
export function leaseTimeoutFailure(task: LiveTask): TaskFailure {
  const closeAt = (task.startedAt ?? 0) + task.options.startToCloseMs;
  return (task.lease?.deadline ?? 0) >= closeAt
    ? { type: "StartToCloseTimeout", message: `the attempt did not finish within its start-to-close timeout (${task.options.startToCloseMs} ms)` }
    : { type: "HeartbeatTimeout", message: `no heartbeat within the heartbeat timeout (${task.options.heartbeatMs} ms)` };
}

export const SCHEDULE_TO_START_FAILURE: TaskFailure = { type: "ScheduleToStartTimeout", message: "no worker started the task within its schedule-to-start timeout" };
export const SCHEDULE_TO_CLOSE_FAILURE: TaskFailure = { type: "ScheduleToCloseTimeout", message: "the task did not finish within its schedule-to-close timeout" };
export const CANCELED_FAILURE: TaskFailure = { type: "Canceled", message: "the task was canceled" };
