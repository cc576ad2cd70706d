/**
 * Contracts of the queue administration and visibility routes: rate limits, pause, fairness
 * weights, describe, explain, poller departure.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { identitySchema } from "./names.ts";
import { stateCountsSchema } from "./queues.ts";
import { rateSchema } from "./rates.ts";
import { TASK_STATES } from "./task-states.ts";

export const fairnessKeySchema = lazySchema(() => z.string().min(1).max(255));

export const limitRequestSchema = lazySchema(() => z.union([
  z.strictObject({ rate: rateSchema, burst: z.number().int().min(1).max(1_000_000).optional() }),
  z.strictObject({ clear: z.literal(true) }),
]));
export type LimitRequest = z.input<typeof limitRequestSchema>;

export const rateLimitViewSchema = lazySchema(() => z.object({
  /** Tasks per second. */
  ratePerSecond: z.number(),
  burst: z.number().int(),
}));
export type RateLimitView = z.infer<typeof rateLimitViewSchema>;

export const limitResponseSchema = lazySchema(() => z.object({ queue: z.string(), limit: rateLimitViewSchema.nullable() }));
export type LimitResponse = z.infer<typeof limitResponseSchema>;

export const pauseResponseSchema = lazySchema(() => z.object({ queue: z.string(), paused: z.boolean() }));
export type PauseResponse = z.infer<typeof pauseResponseSchema>;

export const fairnessRequestSchema = lazySchema(() => z.strictObject({
  key: fairnessKeySchema,
  /** Share of dispatches among keys with backlog (default 1). */
  weight: z.number().int().min(1).max(1_000).optional(),
  /** A per-key rate limit, or null to remove it. */
  rate: rateSchema.nullable().optional(),
}));
export type FairnessRequest = z.input<typeof fairnessRequestSchema>;

export const fairnessKeyViewSchema = lazySchema(() => z.object({
  key: z.string(),
  weight: z.number().int(),
  ratePerSecond: z.number().optional(),
  /** Pending tasks of this key. */
  pending: z.number().int(),
}));
export type FairnessKeyView = z.infer<typeof fairnessKeyViewSchema>;

export const fairnessResponseSchema = lazySchema(() => z.object({ queue: z.string(), key: fairnessKeyViewSchema }));

/** Routes whose action is in the path (pause, resume) take an empty body or `{}`. */
export const emptyRequestSchema = lazySchema(() => z.strictObject({}));

export const leaveRequestSchema = lazySchema(() => z.strictObject({ identity: identitySchema }));
/** `left` is false when the server did not know the poller (already gone). */
export const leaveResponseSchema = lazySchema(() => z.object({ queue: z.string(), identity: z.string(), left: z.boolean() }));

export const pollerViewSchema = lazySchema(() => z.object({
  identity: z.string(),
  host: z.string().optional(),
  types: z.array(z.string()),
  /** Free slots its last poll asked for. */
  freeSlots: z.number().int(),
  lastSeen: z.string(),
  /** A poll of this worker is parked right now. */
  waiting: z.boolean(),
  declaredRatePerSecond: z.number().optional(),
}));
export type PollerView = z.infer<typeof pollerViewSchema>;

export const RATE_LIMIT_SOURCES = ["admin", "poller", "none"] as const;

export const describeResponseSchema = lazySchema(() => z.object({
  name: z.string(),
  paused: z.boolean(),
  counts: stateCountsSchema,
  /** `inStore`: the part of `pending` that waits in the store only (a deep backlog); absent from servers before it. */
  backlog: z.object({ pending: z.number().int(), oldestPendingAgeMs: z.number().int().optional(), inStore: z.number().int().optional() }),
  /** Tasks added and dispatched over the last 60 s. */
  lastMinute: z.object({ added: z.number().int(), dispatched: z.number().int() }),
  rateLimit: z.object({
    effective: rateLimitViewSchema.nullable(),
    source: z.enum(RATE_LIMIT_SOURCES),
    /** The poller whose declared rate is in force, when source is "poller". */
    declaredBy: z.string().optional(),
    admin: rateLimitViewSchema.nullable(),
  }),
  pollers: z.array(pollerViewSchema),
  /** Live pollers do not all handle the same task types. */
  pollerTypesDiffer: z.boolean(),
  /** Task types with pending tasks that no live poller handles. */
  typesWithoutPoller: z.array(z.string()),
  fairness: z.array(fairnessKeyViewSchema),
  /** Traffic-routing rules of the queue with their stats (absent: none). */
  routes: z
    .object({
      version: z.number().int(),
      rules: z.array(
        z.object({
          id: z.string(),
          to: z.string(),
          stats: z.object({ routed: z.number().int(), started: z.number().int(), fellBack: z.number().int(), stranded: z.number().int() }),
        }),
      ),
    })
    .optional(),
}));
export type DescribeResponse = z.infer<typeof describeResponseSchema>;

/** What a task that is not running is waiting for. */
export const WAIT_REASONS = [
  "delay",
  "backoff",
  "paused",
  "rate_limit",
  "no_poller",
  "no_poller_for_type",
  "priority",
  "fairness",
  "ready",
  "running",
  "final",
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export const explainResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  state: z.enum(TASK_STATES),
  reason: z.enum(WAIT_REASONS),
  /** One line for people. */
  message: z.string(),
  /** When the wait ends, if known (delay, backoff, next rate-limit slot). */
  until: z.string().optional(),
}));
export type ExplainResponse = z.infer<typeof explainResponseSchema>;

export const queueListQuerySchema = lazySchema(() => z.object({ prefix: z.string().max(255).optional() }));
