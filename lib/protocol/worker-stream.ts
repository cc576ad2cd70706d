/**
 * The stream: a WebSocket at `GET /v1/worker/stream` that carries the hot calls without an
 * HTTP request per call: a worker's poll and batched settle, a producer's enqueue, batched
 * enqueue and task read (named for its first users, the workers). Each frame is one JSON
 * object. A request names the call (`op`), a reference the caller picks (`ref`, unique among
 * its calls in flight) and the same body the HTTP route takes; the answer repeats the `ref`
 * and carries the HTTP route's status and body, error bodies included, so one client reads
 * both transports the same way. Answers come in any order (a parked poll answers late).
 *
 * Everything else (heartbeat, release, leave, workflow calls, admin) stays on HTTP: those
 * calls are rare, and the HTTP API stays the one complete contract.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { isPlainObject } from "./hand-checked.ts";
import { enqueueBatchBodySchema, enqueueBodySchema, plainEnqueueRequestOf, type EnqueueRequest } from "./enqueue.ts";
import { QUEUE_NAME_PATTERN, TASK_TYPE_PATTERN } from "./names.ts";
import { DEFAULT_POLL_WAIT_MS, LIMITS, plainCompletionOf, pollRequestSchema, settleBatchRequestSchema, type SettleBatchRequest } from "./tasks.ts";

export const WORKER_STREAM_PATH = "/v1/worker/stream";

const refSchema = lazySchema(() => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

export const streamRequestSchema = lazySchema(() => z.discriminatedUnion("op", [
  /** `POST /v1/queues/{queue}/poll`. */
  z.strictObject({ op: z.literal("poll"), ref: refSchema, queue: z.string(), body: pollRequestSchema }),
  /** `POST /v1/tasks/complete`. */
  z.strictObject({ op: z.literal("complete"), ref: refSchema, body: settleBatchRequestSchema }),
  /** `GET /v1/tasks/{id}?waitMs=`: the task's view, once final or after `waitMs`. */
  z.strictObject({ op: z.literal("get"), ref: refSchema, id: z.string(), waitMs: z.number().int().min(0).max(LIMITS.taskWaitMs).optional() }),
  /** `POST /v1/queues/{queue}/tasks`. */
  z.strictObject({ op: z.literal("enqueue"), ref: refSchema, queue: z.string(), body: enqueueBodySchema }),
  /** `POST /v1/queues/{queue}/tasks/batch`. */
  z.strictObject({ op: z.literal("enqueueBatch"), ref: refSchema, queue: z.string(), body: enqueueBatchBodySchema }),
  /**
   * Withdraws the poll `ref`: parked, it is answered empty (status 200, no tasks); tasks it
   * had leased and not yet sent go back to their queue, as when an HTTP poll is aborted.
   */
  z.strictObject({ op: z.literal("cancel"), ref: refSchema }),
]));
/** A request frame as a client builds it (a settle's items typed by the contract). */
export type StreamRequest =
  | Exclude<z.input<typeof streamRequestSchema>, { op: "complete" | "enqueue" | "enqueueBatch" }>
  | { op: "complete"; ref: number; body: SettleBatchRequest }
  | { op: "enqueue"; ref: number; queue: string; body: EnqueueRequest }
  | { op: "enqueueBatch"; ref: number; queue: string; body: { tasks: EnqueueRequest[] } };

export type StreamRequestParsed = z.output<typeof streamRequestSchema>;

const isRef = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isBoundedInt = (value: unknown, min: number, max: number) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
const isName = (value: unknown): value is string => typeof value === "string" && value.length >= 1 && value.length <= 255;

/**
 * A settle frame whose items are all plain completions, checked by hand against the schema's
 * rules (the keys of the frame and of its body, the ref, the batch's bounds, each item as
 * settleItemSchema checks it); undefined to let the schema decide.
 */
function plainSettleFrame(value: unknown): StreamRequestParsed | undefined {
  if (!isPlainObject(value) || value.op !== "complete") return undefined;
  for (const key in value) if (key !== "op" && key !== "ref" && key !== "body") return undefined;
  const { ref, body } = value;
  if (!isRef(ref) || !isPlainObject(body)) return undefined;
  for (const key in body) if (key !== "completions") return undefined;
  const items = body.completions;
  if (!Array.isArray(items) || items.length < 1 || items.length > LIMITS.settleBatch) return undefined;
  const completions = [];
  for (const item of items) {
    const plain = plainCompletionOf(item);
    if (!plain) return undefined;
    completions.push(plain);
  }
  return { op: "complete", ref, body: { completions } };
}

/**
 * A poll frame without a declared queue rate, checked by hand against pollRequestSchema's
 * rules (with its defaults for `max` and `waitMs`); undefined to let the schema decide.
 */
function plainPollFrame(value: unknown): StreamRequestParsed | undefined {
  if (!isPlainObject(value) || value.op !== "poll") return undefined;
  for (const key in value) if (key !== "op" && key !== "ref" && key !== "queue" && key !== "body") return undefined;
  const { ref, queue, body } = value;
  if (!isRef(ref) || typeof queue !== "string" || !isPlainObject(body)) return undefined;
  for (const key in body) if (key !== "identity" && key !== "types" && key !== "max" && key !== "waitMs" && key !== "host" && key !== "yieldTo") return undefined;
  const { identity, types, max = 1, waitMs = DEFAULT_POLL_WAIT_MS, host, yieldTo } = body;
  if (!isName(identity) || !Array.isArray(types) || types.length < 1 || types.length > LIMITS.pollTypes) return undefined;
  for (const type of types) if (typeof type !== "string" || !TASK_TYPE_PATTERN.test(type)) return undefined;
  if (!isBoundedInt(max, 1, LIMITS.pollMax) || !isBoundedInt(waitMs, 0, LIMITS.pollWaitMs)) return undefined;
  if (host !== undefined && !isName(host)) return undefined;
  if (yieldTo !== undefined && !isQueueList(yieldTo)) return undefined;
  const parsed: { identity: string; types: string[]; max: number; waitMs: number; host?: string; yieldTo?: string[] } = { identity, types: [...(types as string[])], max: max as number, waitMs: waitMs as number };
  if ("host" in body) parsed.host = host as string | undefined;
  if ("yieldTo" in body) parsed.yieldTo = yieldTo === undefined ? undefined : [...yieldTo];
  return { op: "poll", ref, queue, body: parsed };
}

/** A poll's `yieldTo`: 1 to LIMITS.pollYieldQueues queue names. */
function isQueueList(value: unknown): value is string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > LIMITS.pollYieldQueues) return false;
  for (const name of value) if (typeof name !== "string" || !QUEUE_NAME_PATTERN.test(name)) return false;
  return true;
}

/** An enqueue frame of a plain task, checked by hand as plainPollFrame; undefined to let the schema decide. */
function plainEnqueueFrame(value: unknown): StreamRequestParsed | undefined {
  if (!isPlainObject(value) || value.op !== "enqueue") return undefined;
  for (const key in value) if (key !== "op" && key !== "ref" && key !== "queue" && key !== "body") return undefined;
  const { ref, queue, body } = value;
  if (!isRef(ref) || typeof queue !== "string") return undefined;
  const plain = plainEnqueueRequestOf(body);
  return plain && { op: "enqueue", ref, queue, body: plain };
}

/**
 * Parses one request frame: streamRequestSchema, except that a poll frame, a settle frame of
 * plain completions (what a worker sends for nearly every task) and an enqueue frame of a
 * plain task (what most producers send) are checked by hand against the same rules. In the
 * daemon, where every route's schemas share zod's code, zod's machinery cost a few µs a task
 * in a drain even after the items themselves were checked by hand, and about 6 µs an enqueue
 * frame (see bench/NOTES.md, "Hot path" and "Producers on the stream"). Same data and errors
 * either way (test/unit/protocol/stream-request.test.ts).
 */
export function parseStreamRequest(value: unknown): ReturnType<typeof streamRequestSchema.safeParse> {
  const plain = plainSettleFrame(value) ?? plainPollFrame(value) ?? plainEnqueueFrame(value);
  if (plain) return { success: true, data: plain } as ReturnType<typeof streamRequestSchema.safeParse>;
  return streamRequestSchema.safeParse(value);
}

/** The answer to one request: the HTTP route's status and JSON body. */
export const streamAnswerSchema = lazySchema(() => z.object({ ref: refSchema, status: z.number().int(), body: z.unknown() }));
export type StreamAnswer = z.infer<typeof streamAnswerSchema>;
