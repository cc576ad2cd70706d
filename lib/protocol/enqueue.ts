/**
 * The enqueue contract: what a producer may say about a task (timeouts, retry policy,
 * scheduling, priority, what to do when its id already exists).
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { durationSchema } from "./duration.ts";
import { handChecked, isPlainObject } from "./hand-checked.ts";
import { queueNameSchema, TASK_ID_PATTERN, TASK_TYPE_PATTERN, taskIdSchema, taskTypeSchema } from "./names.ts";
import { headersSchema } from "./routing.ts";
import { TASK_STATES } from "./task-states.ts";

export const PRIORITY_MIN = 1;
export const PRIORITY_MAX = 5;
export const DEFAULT_PRIORITY = 3;

export const retryPolicySchema = lazySchema(() => z.strictObject({
  /** Backoff before the second attempt. */
  initialInterval: durationSchema.optional(),
  /** Each further backoff is the previous one times this (>= 1). */
  backoffCoefficient: z.number().min(1, "backoffCoefficient must be at least 1").max(100).optional(),
  /** Backoffs never exceed this (>= initialInterval). */
  maxInterval: durationSchema.optional(),
  /** Attempts in all, the first included. */
  maxAttempts: z.number().int().min(1).max(10_000).optional(),
  /** Error types that are never retried. */
  nonRetryableErrorTypes: z.array(z.string().min(1).max(255)).max(100).optional(),
}));
export type RetryPolicyRequest = z.input<typeof retryPolicySchema>;

/** What to do when `id` names a task that is already final (a live one is always returned). */
export const IF_EXISTS = ["reject", "return", "new"] as const;

/** Task types under this prefix are the daemon's own (workflow tasks, session holders). */
export const RESERVED_TYPE_PREFIX = "tqd.";

/** An ISO 8601 time with a UTC offset (`runAt`; the CLI checks `--at` with it). */
export const runAtSchema = lazySchema(() => z.iso.datetime({ offset: true }));

const enqueueFields = () => ({
  type: taskTypeSchema.refine((type) => !type.startsWith(RESERVED_TYPE_PREFIX), `task types starting with "${RESERVED_TYPE_PREFIX}" are reserved for workflows and sessions`),
  input: z.unknown().optional(),
  id: taskIdSchema.optional(),
  /** reject (default): 409; return: answer with the final task; new: replace it with a new run. */
  ifExists: z.enum(IF_EXISTS).optional(),
  priority: z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).optional(),
  /** Producer-set headers that traffic-routing rules match on. */
  headers: headersSchema.optional(),
  /** A task not started within this moves to `fallbackQueue` (default: the base queue of a host or worker queue). */
  fallbackAfter: durationSchema.optional(),
  fallbackQueue: queueNameSchema.optional(),
  /** Tasks of one key (a tenant, say) share dispatches fairly with other keys' tasks. */
  fairnessKey: z.string().min(1).max(255).optional(),
  /** Not dispatched before now + delay. */
  delay: durationSchema.optional(),
  /** Not dispatched before this ISO 8601 time. */
  runAt: runAtSchema.optional(),
  scheduleToStartTimeout: durationSchema.optional(),
  startToCloseTimeout: durationSchema.optional(),
  scheduleToCloseTimeout: durationSchema.optional(),
  heartbeatTimeout: durationSchema.optional(),
  retryPolicy: retryPolicySchema.optional(),
});

export const enqueueRequestSchema = lazySchema(() =>
  z.strictObject(enqueueFields()).refine((body) => body.delay === undefined || body.runAt === undefined, {
    message: "give delay or runAt, not both",
    path: ["runAt"],
  }),
);
export type EnqueueRequest = z.input<typeof enqueueRequestSchema>;
export type EnqueueRequestParsed = z.output<typeof enqueueRequestSchema>;

type PlainEnqueueRequest = { type: string; input?: unknown; id?: string; ifExists?: (typeof IF_EXISTS)[number] };
const PLAIN_KEYS: ReadonlySet<string> = new Set(["type", "input", "id", "ifExists"]);
const IF_EXISTS_SET: ReadonlySet<unknown> = new Set(IF_EXISTS);

/**
 * Whether a body is a plain task the contract accepts as it is: only `type`, and maybe `input`,
 * `id` and `ifExists` (what `tqd enqueue` sends), with a type of the task-type grammar outside
 * the reserved prefix, an id of the id grammar and a known ifExists. The same rules as the
 * contract's, checked by hand (test/unit/protocol/enqueue-body.test.ts holds the two to the
 * same answers).
 */
function isPlainEnqueueRequest(value: unknown): value is PlainEnqueueRequest {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!PLAIN_KEYS.has(key)) return false;
  const { type, id, ifExists } = value;
  if ("id" in value && !(typeof id === "string" && TASK_ID_PATTERN.test(id))) return false;
  if ("ifExists" in value && !IF_EXISTS_SET.has(ifExists)) return false;
  return isProducerTaskType(type);
}

/** A task type a producer may use and a handler may serve: the grammar, without the daemon's reserved prefix. */
export function isProducerTaskType(value: unknown): value is string {
  return typeof value === "string" && TASK_TYPE_PATTERN.test(value) && !value.startsWith(RESERVED_TYPE_PREFIX);
}

/**
 * What the server parses an enqueue body with: `enqueueRequestSchema`, except that a plain task
 * (what most producers send) is accepted by a hand check of the same rules. zod's object parser
 * visits every declared field, present or not, and in the daemon, where every route's schemas
 * share its code, that cost a fresh daemon 9-12 ms for its first batch of 1,000 plain tasks
 * (see bench/NOTES.md, "Hot path"). Anything else, and every error, still comes from the contract.
 */
export const enqueueBodySchema = lazySchema(() => handChecked(enqueueRequestSchema, (value) => plainEnqueueRequestOf(value)));

/** A plain task (`{type, input?, id?, ifExists?}`) as enqueueBodySchema parses it; undefined to let the schema decide. */
export function plainEnqueueRequestOf(value: unknown): PlainEnqueueRequest | undefined {
  if (!isPlainEnqueueRequest(value)) return undefined;
  const plain: PlainEnqueueRequest = { type: value.type };
  if ("input" in value) plain.input = value.input;
  if ("id" in value) plain.id = value.id;
  if ("ifExists" in value) plain.ifExists = value.ifExists;
  return plain;
}

export const LIMITS_BATCH_TASKS = 10_000;

export const enqueueBatchRequestSchema = lazySchema(() => z.strictObject({
  tasks: z.array(enqueueRequestSchema).min(1).max(LIMITS_BATCH_TASKS),
}));
export type EnqueueBatchRequest = z.input<typeof enqueueBatchRequestSchema>;

/**
 * The batch body as the server parses it: a batch of plain tasks is checked by hand as a whole
 * (zod's array parser costs about 0.12 µs an item even when each item takes the hand check, and
 * a fresh daemon compiles its code on the first batch); any other batch goes through zod, with
 * each plain item still checked by hand (see enqueueBodySchema).
 */
export const enqueueBatchBodySchema = lazySchema(() => handChecked(
  // Built only when a batch is not plain: a fresh daemon's first batch took 5 ms to build it.
  lazySchema(() => z.strictObject({ tasks: z.array(enqueueBodySchema).min(1).max(LIMITS_BATCH_TASKS) })),
  (value) => plainEnqueueBatchOf(value),
));

/**
 * A batch whose every task is plain, as enqueueBatchBodySchema parses it; undefined to let the
 * schema decide. The items are the parsed objects themselves: a plain item already has exactly
 * the shape the schema would build from it (`type`, and `input`, `id`, `ifExists` when given).
 */
export function plainEnqueueBatchOf(value: unknown): { tasks: PlainEnqueueRequest[] } | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const key in value) if (key !== "tasks") return undefined;
  const { tasks } = value;
  if (!Array.isArray(tasks) || tasks.length < 1 || tasks.length > LIMITS_BATCH_TASKS) return undefined;
  for (let i = 0; i < tasks.length; i++) if (!isPlainEnqueueRequest(tasks[i])) return undefined;
  return { tasks: tasks as PlainEnqueueRequest[] };
}

export const enqueueResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  created: z.boolean(),
  /** The queue the task was routed to by a traffic rule, if any. */
  routedTo: z.string().optional(),
  /** Set when no worker has polled the queue in the last hour (a typo in the queue name?). */
  warning: z.string().optional(),
}));
export type EnqueueResponse = z.infer<typeof enqueueResponseSchema>;

const ENQUEUE_RESPONSE_KEYS = new Set(["id", "queue", "type", "state", "created", "routedTo", "warning"]);
const TASK_STATE_SET: ReadonlySet<unknown> = new Set(TASK_STATES);
const isOptionalString = (value: unknown) => value === undefined || typeof value === "string";

/**
 * An enqueue answer as enqueueResponseSchema parses it, checked by hand; undefined to let the
 * schema decide (an unknown key, which the schema strips, included). A producer on the stream
 * reads one per task, and there the schema's parse cost its client about 3 µs of the 22 a call
 * (see bench/NOTES.md, "Producers on the stream"). test/unit/protocol/enqueue-response.test.ts
 * holds the two to the same answers.
 */
export function plainEnqueueResponseOf(value: unknown): EnqueueResponse | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const key in value) if (!ENQUEUE_RESPONSE_KEYS.has(key)) return undefined;
  const { id, queue, type, state, created, routedTo, warning } = value;
  if (typeof id !== "string" || typeof queue !== "string" || typeof type !== "string" || typeof created !== "boolean") return undefined;
  if (!TASK_STATE_SET.has(state) || !isOptionalString(routedTo) || !isOptionalString(warning)) return undefined;
  return value as EnqueueResponse;
}

/** A batch's answer: the typo guard's warning is about the queue, so it comes once, not per task. */
export const enqueueBatchResponseSchema = lazySchema(() => z.object({ tasks: z.array(enqueueResponseSchema), warning: z.string().optional() }));
export type EnqueueBatchResponse = z.infer<typeof enqueueBatchResponseSchema>;

/**
 * A batch's answer as enqueueBatchResponseSchema parses it, checked by hand like
 * plainEnqueueResponseOf (undefined: the schema decides): for `tqd enqueue --lines`, which reads
 * 1,000 answers a batch; beyond JSON.parse the schema takes 0.22 ms a batch, the hand check 0.11
 * (warm, in isolation).
 */
export function plainEnqueueBatchResponseOf(value: unknown): EnqueueBatchResponse | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const key in value) if (key !== "tasks" && key !== "warning") return undefined;
  const { tasks, warning } = value;
  if (!Array.isArray(tasks) || !isOptionalString(warning)) return undefined;
  for (let i = 0; i < tasks.length; i++) if (plainEnqueueResponseOf(tasks[i]) === undefined) return undefined;
  return value as EnqueueBatchResponse;
}
