/**
 * The part of the HTTP client the worker uses. Naming it keeps test fakes honest: `TqdClient`
 * must satisfy this type, and a fake that does too exercises the same calls.
 */
import { TqdApiError, type TqdClient } from "../client/index.ts";

export type WorkerClient = Pick<TqdClient, "poll" | "complete" | "fail" | "heartbeat" | "leave" | "release" | "workflowHistory" | "completeWorkflowTask"> &
  /** Optional so a client without it reports each outcome alone (see ack-batcher.ts). */
  Partial<Pick<TqdClient, "settleBatch">>;

/**
 * The server no longer holds this worker's lease: the task is unknown (404) or its lease token
 * is stale because the lease expired and the task moved on (409).
 */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof TqdApiError && (error.status === 404 || error.status === 409);
}
