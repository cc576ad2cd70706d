/**
 * Contracts of the worker-facing task routes (poll, complete, fail, heartbeat, cancel) and of
 * the task view. The server parses requests with these schemas; the client, the worker and the
 * CLI parse responses with them.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { ERROR_CODES } from "./errors.ts";
import { identitySchema, isTaskId, queueNameSchema, taskIdSchema, taskTypeSchema } from "./names.ts";
import { handChecked, isPlainObject } from "./hand-checked.ts";
import { rateSchema } from "./rates.ts";
import { ATTEMPT_OUTCOMES, TASK_STATES, type TaskStateName } from "./task-states.ts";

/** Upper bounds that keep one request from monopolising the daemon. */
export const LIMITS = {
  batchTasks: 10_000,
  /** Outcomes in one `POST /v1/tasks/complete`. */
  settleBatch: 1_000,
  pollMax: 1_000,
  pollTypes: 100,
  /** Queues one poll may yield to (see `yieldTo`): three for each of a worker's 100 queues. */
  pollYieldQueues: 300,
  pollWaitMs: 60_000,
  taskWaitMs: 60_000,
  errorMessageChars: 16_384,
  listLimit: 1_000,
} as const;

export const DEFAULT_POLL_WAIT_MS = 30_000;

export const pollRequestSchema = lazySchema(() => z.strictObject({
  identity: identitySchema,
  types: z.array(taskTypeSchema).min(1).max(LIMITS.pollTypes),
  max: z.number().int().min(1).max(LIMITS.pollMax).default(1),
  waitMs: z.number().int().min(0).max(LIMITS.pollWaitMs).default(DEFAULT_POLL_WAIT_MS),
  /** The worker's host name, shown by describe. */
  host: z.string().min(1).max(255).optional(),
  /** A queue rate this worker declares (`tqd work --queue-rate`); the lowest live one applies unless an admin limit is set. */
  queueRate: rateSchema.optional(),
  /**
   * The worker's other queues, when this poll holds a slot its polls of them take turns with:
   * while it is parked, the server answers it empty as soon as a task of one of its types is
   * ready on one of them and no parked poll there took it.
   */
  yieldTo: z.array(queueNameSchema).min(1).max(LIMITS.pollYieldQueues).optional(),
}));
export type PollRequest = z.input<typeof pollRequestSchema>;

export const leasedTaskContract = lazySchema(() => z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  input: z.unknown().optional(),
  attempt: z.number().int(),
  priority: z.number().int().optional(),
  leaseToken: z.string(),
  /** ISO 8601; the worker must finish (or heartbeat, if it has a heartbeat timeout) before it. */
  leaseDeadline: z.string(),
  /** Heartbeat timeout of each attempt, if the task has one: heartbeat more often than this. */
  heartbeatTimeoutMs: z.number().int().optional(),
  /** Details of the last heartbeat of an earlier attempt, to resume from. */
  lastHeartbeat: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
}));
export type LeasedTask = z.infer<typeof leasedTaskContract>;

/**
 * The contract's keys, written out: reading them from the contract would build it (about 6 ms
 * of a worker's first poll answer, cold). test/unit/protocol/leased-task.test.ts holds the two
 * to the same keys.
 */
export const LEASED_TASK_KEYS: ReadonlySet<string> = new Set([
  "id",
  "queue",
  "type",
  "input",
  "attempt",
  "priority",
  "leaseToken",
  "leaseDeadline",
  "heartbeatTimeoutMs",
  "lastHeartbeat",
  "headers",
]);

const isOptionalInt = (value: unknown) => value === undefined || Number.isSafeInteger(value);

/** Headers the contract accepts as they are: a plain object of strings (no `__proto__` key). */
function isPlainHeaders(value: unknown): value is Record<string, string> {
  if (!isPlainObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (key === "__proto__" || typeof value[key] !== "string") return false;
  return true;
}

/**
 * A leased task the contract accepts, rebuilt with the declared keys only (as zod strips the
 * rest), or undefined to let the contract decide. The same rules as leasedTaskContract, checked
 * by hand (test/unit/protocol/leased-task.test.ts holds the two to the same answers).
 */
function plainLeasedTask(task: unknown): LeasedTask | undefined {
  if (!isPlainObject(task)) return undefined;
  for (const key in task) if (!LEASED_TASK_KEYS.has(key)) return undefined;
  const { id, queue, type, attempt, priority, leaseToken, leaseDeadline, heartbeatTimeoutMs, headers } = task;
  if (typeof id !== "string" || typeof queue !== "string" || typeof type !== "string" || typeof leaseToken !== "string" || typeof leaseDeadline !== "string") return undefined;
  if (!Number.isSafeInteger(attempt) || !isOptionalInt(priority) || !isOptionalInt(heartbeatTimeoutMs)) return undefined;
  if (headers !== undefined && !isPlainHeaders(headers)) return undefined;
  const out: LeasedTask = { id, queue, type, attempt: attempt as number, leaseToken, leaseDeadline };
  if ("input" in task) out.input = task.input;
  if ("priority" in task) out.priority = priority as number | undefined;
  if ("heartbeatTimeoutMs" in task) out.heartbeatTimeoutMs = heartbeatTimeoutMs as number | undefined;
  if ("lastHeartbeat" in task) out.lastHeartbeat = task.lastHeartbeat;
  if ("headers" in task) out.headers = headers === undefined ? undefined : { ...headers };
  return out;
}

/**
 * One task of a poll answer, as the worker checks it: leasedTaskContract, except that a task
 * of the shape the server sends is accepted by a hand check of the same rules. zod's object
 * parse cost the worker about 4 of its 17 µs a task in a drain (see bench/NOTES.md, "Hot path");
 * anything else, and every error, still comes from the contract.
 */
export const leasedTaskSchema = lazySchema(() => handChecked(leasedTaskContract, plainLeasedTask));

const pollResponseContract = lazySchema(() => z.object({ tasks: z.array(leasedTaskSchema) }));
export type PollResponse = z.infer<typeof pollResponseContract>;

/**
 * A poll answer whose every task passes the hand check, as the contract gives it back (other
 * keys stripped), or undefined. zod's object and array around the hand-checked tasks still
 * cost the worker about 7 % of its samples in a drain.
 */
function plainPollResponse(value: unknown): PollResponse | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.tasks)) return undefined;
  // The loop is written out here and in plainSettleBatchResponse: one generic helper taking
  // the item check as a callback cost the worker about 0.8 µs a task (4 drain pairs).
  const tasks: LeasedTask[] = [];
  for (const item of value.tasks as unknown[]) {
    const task = plainLeasedTask(item);
    if (task === undefined) return undefined;
    tasks.push(task);
  }
  return { tasks };
}

/** A poll answer, as the worker checks it (test/unit/protocol/leased-task.test.ts). */
export const pollResponseSchema = lazySchema(() => handChecked(pollResponseContract, plainPollResponse));

/** Lease tokens the daemon mints are 25 characters; the bound only keeps junk out. */
const LEASE_TOKEN_MAX_CHARS = 200;
const leaseTokenSchema = lazySchema(() => z.string().min(1).max(LEASE_TOKEN_MAX_CHARS));

export const completeRequestSchema = lazySchema(() => z.strictObject({
  leaseToken: leaseTokenSchema,
  result: z.unknown().optional(),
}));
export type CompleteRequest = z.input<typeof completeRequestSchema>;

export const taskErrorSchema = lazySchema(() => z.object({
  type: z.string().min(1).max(255),
  message: z.string().max(LIMITS.errorMessageChars),
  /** The handler said: do not retry this failure, whatever the retry policy. */
  nonRetryable: z.boolean().optional(),
}));
export type TaskError = z.infer<typeof taskErrorSchema>;

export const failRequestSchema = lazySchema(() => z.strictObject({
  leaseToken: leaseTokenSchema,
  error: taskErrorSchema,
}));
export type FailRequest = z.input<typeof failRequestSchema>;

/**
 * `POST /v1/tasks/complete`: several outcomes in one request and one commit (the worker
 * coalesces the completions and failures that finish while its previous report is in flight).
 * An item with `error` fails its attempt; otherwise it completes it with `result`.
 */
export const settleItemContract = lazySchema(() =>
  z.union([
    z.strictObject({ id: taskIdSchema, leaseToken: leaseTokenSchema, result: z.unknown().optional() }),
    z.strictObject({ id: taskIdSchema, leaseToken: leaseTokenSchema, error: taskErrorSchema }),
  ]),
);
export type SettleItem = z.input<typeof settleItemContract>;
type SettleItemParsed = z.output<typeof settleItemContract>;

/**
 * A plain completion as the contract gives it back (only `id`, `leaseToken` and maybe
 * `result`, a valid id, a token of allowed length), or undefined to let the contract decide.
 * The same rules as the first branch of settleItemContract, checked by hand
 * (test/unit/protocol/settle-item.test.ts holds the two to the same answers).
 */
export function plainCompletionOf(item: unknown): SettleItemParsed | undefined {
  if (!isPlainObject(item)) return undefined;
  for (const key in item) if (key !== "id" && key !== "leaseToken" && key !== "result") return undefined;
  const { id, leaseToken } = item;
  if (typeof id !== "string" || !isTaskId(id) || typeof leaseToken !== "string" || leaseToken.length < 1 || leaseToken.length > LEASE_TOKEN_MAX_CHARS) return undefined;
  return "result" in item ? { id, leaseToken, result: item.result } : { id, leaseToken };
}

/**
 * One outcome of a settle batch: settleItemContract, except that a plain completion (nearly
 * every item a worker sends) is accepted by a hand check of the same rules. zod's union of two
 * strict objects cost the daemon 3-5 µs an item in a drain, about a tenth of its CPU per task
 * (see bench/NOTES.md, "Hot path"); anything else, and every error, still comes from the contract.
 */
export const settleItemSchema = lazySchema(() => handChecked(settleItemContract, plainCompletionOf));

export const settleBatchRequestSchema = lazySchema(() => z.strictObject({
  completions: z.array(settleItemSchema).min(1).max(LIMITS.settleBatch),
}));
/** What a client sends (the items as the contract types them; the parse accepts the same). */
export type SettleBatchRequest = { completions: SettleItem[] };

/** Each item's own answer, in request order: one stale lease never fails the others. */
export const settleItemResultContract = lazySchema(() =>
  z.union([
    z.object({ id: z.string(), state: z.enum(TASK_STATES) }),
    z.object({ id: z.string(), error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) }),
  ]),
);
export type SettleItemResult = z.infer<typeof settleItemResultContract>;

const TASK_STATE_NAMES: ReadonlySet<unknown> = new Set(TASK_STATES);

/** `{id, state}` with a known state, as the contract would give it back; undefined otherwise. */
function plainSettleResult(item: unknown): SettleItemResult | undefined {
  if (!isPlainObject(item)) return undefined;
  if (typeof item.id !== "string" || !TASK_STATE_NAMES.has(item.state)) return undefined;
  for (const key in item) if (key !== "id" && key !== "state") return undefined;
  return { id: item.id, state: item.state as TaskStateName };
}

/**
 * One item's answer to a settle batch, as the worker checks it: settleItemResultContract,
 * except that `{id, state}` with a known state (nearly every answer) is accepted by a hand
 * check of the same rules, as leasedTaskSchema does for the tasks of a poll answer (the test
 * of settle items holds the two to the same answers).
 */
export const settleItemResultSchema = lazySchema(() => handChecked(settleItemResultContract, plainSettleResult));

const settleBatchResponseContract = lazySchema(() => z.object({ results: z.array(settleItemResultSchema) }));
export type SettleBatchResponse = z.infer<typeof settleBatchResponseContract>;

/** A settle batch's answer of plain `{id, state}` items, as the contract gives it back, or undefined. */
function plainSettleBatchResponse(value: unknown): SettleBatchResponse | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.results)) return undefined;
  const results: SettleItemResult[] = [];
  for (const item of value.results as unknown[]) {
    const result = plainSettleResult(item);
    if (result === undefined) return undefined;
    results.push(result);
  }
  return { results };
}

/** A settle batch's answer, as the worker checks it (test/unit/protocol/settle-item.test.ts). */
export const settleBatchResponseSchema = lazySchema(() => handChecked(settleBatchResponseContract, plainSettleBatchResponse));

/**
 * `POST /v1/tasks/release`: gives back leased tasks the worker will not run (a poll answered
 * after it began stopping). Each goes back to the front of its queue and the attempt does not
 * count. Checked against the lease token, and safe to repeat: a task not running under that
 * token (released already, expired, settled) is left as it is and answers `released: false`.
 */
export const releaseItemSchema = lazySchema(() => z.strictObject({ id: taskIdSchema, leaseToken: leaseTokenSchema }));
export type ReleaseItem = z.input<typeof releaseItemSchema>;

export const releaseRequestSchema = lazySchema(() => z.strictObject({
  tasks: z.array(releaseItemSchema).min(1).max(LIMITS.pollMax),
}));
export type ReleaseRequest = z.input<typeof releaseRequestSchema>;

/** Each item's own answer, in request order. */
export const releaseItemResultSchema = lazySchema(() => z.union([
  z.object({ id: z.string(), released: z.boolean() }),
  z.object({ id: z.string(), error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) }),
]));
export type ReleaseItemResult = z.infer<typeof releaseItemResultSchema>;

export const releaseResponseSchema = lazySchema(() => z.object({ results: z.array(releaseItemResultSchema) }));
export type ReleaseResponse = z.infer<typeof releaseResponseSchema>;

/** The task's state after a complete or fail: `scheduled` when a failure will be retried. */
export const settleResponseSchema = lazySchema(() => z.object({ id: z.string(), state: z.enum(TASK_STATES) }));
export type SettleResponse = z.infer<typeof settleResponseSchema>;

export const heartbeatRequestSchema = lazySchema(() => z.strictObject({
  leaseToken: leaseTokenSchema,
  details: z.unknown().optional(),
}));
export type HeartbeatRequest = z.input<typeof heartbeatRequestSchema>;

export const heartbeatResponseSchema = lazySchema(() => z.object({
  leaseDeadline: z.string(),
  /** Someone asked to cancel the task: the worker should stop the handler and report. */
  cancelRequested: z.boolean(),
}));
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

export const cancelRequestSchema = lazySchema(() => z.strictObject({ reason: z.string().max(1_000).optional() }));
export const cancelResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  state: z.enum(TASK_STATES),
  /** True when the task is running: it ends `canceled` once its worker stops the handler. */
  cancelRequested: z.boolean(),
}));
export type CancelResponse = z.infer<typeof cancelResponseSchema>;

export const attemptViewSchema = lazySchema(() => z.object({
  attempt: z.number().int(),
  worker: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  error: taskErrorSchema.optional(),
}));
export type AttemptView = z.infer<typeof attemptViewSchema>;

export const retryPolicyViewSchema = lazySchema(() => z.object({
  initialIntervalMs: z.number().int(),
  backoffCoefficient: z.number(),
  maxIntervalMs: z.number().int(),
  maxAttempts: z.number().int(),
  nonRetryableErrorTypes: z.array(z.string()),
}));

export const taskViewSchema = lazySchema(() => z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  attempt: z.number().int(),
  priority: z.number().int(),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  error: taskErrorSchema.optional(),
  heartbeatDetails: z.unknown().optional(),
  worker: z.string().optional(),
  cancelRequested: z.boolean().optional(),
  createdAt: z.string(),
  /** When a scheduled task becomes pending (its delay or retry backoff ends). */
  runAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  leaseDeadline: z.string().optional(),
  startToCloseTimeoutMs: z.number().int(),
  scheduleToStartTimeoutMs: z.number().int().optional(),
  scheduleToCloseTimeoutMs: z.number().int().optional(),
  heartbeatTimeoutMs: z.number().int().optional(),
  retryPolicy: retryPolicyViewSchema,
  attempts: z.array(attemptViewSchema).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  fairnessKey: z.string().optional(),
  /** Routing: the queue it was first sent to, the rule that routed it, and its fallback. */
  routedFrom: z.string().optional(),
  routeRuleId: z.string().optional(),
  fallbackQueue: z.string().optional(),
  fallbackAt: z.string().optional(),
}));
export type TaskView = z.infer<typeof taskViewSchema>;

/** `GET /v1/tasks/{id}?waitMs=N`: waits until the task is final or time is up. */
export const taskWaitQuerySchema = lazySchema(() => z.object({
  waitMs: z.coerce.number().int().min(0).max(LIMITS.taskWaitMs).optional(),
}));
