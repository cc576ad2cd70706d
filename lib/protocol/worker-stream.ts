/**
 * The worker stream: a WebSocket at `GET /v1/worker/stream` that carries a worker's two hot
 * calls, poll and batched settle, without an HTTP request per call. Each frame is one JSON
 * object. A request names the call (`op`), a reference the worker picks (`ref`, unique among
 * its calls in flight) and the same body the HTTP route takes; the answer repeats the `ref`
 * and carries the HTTP route's status and body, error bodies included, so one client reads
 * both transports the same way. Answers come in any order (a parked poll answers late).
 *
 * Everything else a worker does (heartbeat, release, leave, workflow history) stays on HTTP:
 * those calls are rare, and the HTTP API stays the one complete contract.
 */
import * as z from "zod";
import { pollRequestSchema, settleBatchRequestSchema, type SettleBatchRequest } from "./tasks.ts";

export const WORKER_STREAM_PATH = "/v1/worker/stream";

const refSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const streamRequestSchema = z.discriminatedUnion("op", [
  /** `POST /v1/queues/{queue}/poll`. */
  z.strictObject({ op: z.literal("poll"), ref: refSchema, queue: z.string(), body: pollRequestSchema }),
  /** `POST /v1/tasks/complete`. */
  z.strictObject({ op: z.literal("complete"), ref: refSchema, body: settleBatchRequestSchema }),
  /**
   * Withdraws the poll `ref`: parked, it is answered empty (status 200, no tasks); tasks it
   * had leased and not yet sent go back to their queue, as when an HTTP poll is aborted.
   */
  z.strictObject({ op: z.literal("cancel"), ref: refSchema }),
]);
/** A request frame as a client builds it (a settle's items typed by the contract). */
export type StreamRequest = Exclude<z.input<typeof streamRequestSchema>, { op: "complete" }> | { op: "complete"; ref: number; body: SettleBatchRequest };

/** The answer to one request: the HTTP route's status and JSON body. */
export const streamAnswerSchema = z.object({ ref: refSchema, status: z.number().int(), body: z.unknown() });
export type StreamAnswer = z.infer<typeof streamAnswerSchema>;
