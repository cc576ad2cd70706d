/**
 * The part of the HTTP client the worker uses. Naming it keeps test fakes honest: `TqdClient`
 * must satisfy this type, and a fake that does too exercises the same calls.
 */
import { TqdApiError, type TqdClient } from "../client/index.ts";
import type { SettleItem, SettleItemResult } from "../protocol/index.ts";

export type WorkerClient = Pick<TqdClient, "poll" | "complete" | "fail" | "heartbeat" | "leave" | "release" | "workflowHistory" | "completeWorkflowTask"> & {
  /**
   * `POST /v1/tasks/complete`. Optional so a client without it reports each outcome alone (see
   * ack-batcher.ts). A client on an ordered channel (the worker stream) calls `onOrdered` once
   * the server is certain to read these outcomes before anything the client sends after them:
   * from then on a poll cannot overtake them, so their slots may take new tasks (see
   * task-runner.ts). Over HTTP requests may overtake each other, so it is never called.
   */
  settleBatch?(completions: SettleItem[], signal?: AbortSignal, onOrdered?: () => void): Promise<SettleItemResult[]>;
  /** True while `settleBatch` goes over an ordered channel (see above); absent means never. */
  ordersOutcomes?(): boolean;
};

/**
 * The server no longer holds this worker's lease: the task is unknown (404) or its lease token
 * is stale because the lease expired and the task moved on (409).
 */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof TqdApiError && (error.status === 404 || error.status === 409);
}
