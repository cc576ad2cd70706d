/** The states a task can be in, as the wire names them. */

/**
 * `scheduled`: waiting for its delay or its retry backoff; `pending`: ready for a worker;
 * `running`: leased to a worker; the other four are final.
 */
export const TASK_STATES = ["scheduled", "pending", "running", "completed", "failed", "canceled", "timed_out"] as const;
export type TaskStateName = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: readonly TaskStateName[] = ["completed", "failed", "canceled", "timed_out"];

export function isFinalStateName(state: string): boolean {
  return (FINAL_TASK_STATES as readonly string[]).includes(state);
}

/** How an attempt ended, in a task's attempt history. */
export const ATTEMPT_OUTCOMES = ["running", "completed", "failed", "timed_out", "canceled"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
