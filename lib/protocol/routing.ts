/**
 * Task routing and traffic routing contracts. Host and worker queues are named from the base
 * queue: `Q@host:HOST` (shared by all workers of Q on that host) and `Q@worker:ID` (one worker
 * process). Traffic rules send a slice of a queue's tasks (a type, a header value, a percentage)
 * to another queue, with a fallback back to the source so a bad rule cannot strand traffic.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { durationSchema } from "./duration.ts";
import { QUEUE_NAME_PATTERN, queueNameSchema } from "./names.ts";

export const HOST_QUEUE_MARK = "@host:";
export const WORKER_QUEUE_MARK = "@worker:";

/** Characters a host or worker name may keep in a queue name; others become `-`. */
function queueSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._\-:]/g, "-");
}

/** `Q@host:HOST`: the queue every worker of Q on HOST also polls. */
export function hostQueueName(base: string, host: string): string {
  return `${base}${HOST_QUEUE_MARK}${queueSafe(host)}`.slice(0, 255);
}

/** `Q@worker:ID`: the queue only one worker process polls. */
export function workerQueueName(base: string, workerId: string): string {
  return `${base}${WORKER_QUEUE_MARK}${queueSafe(workerId)}`.slice(0, 255);
}

/** The base queue of a host or worker queue (the name itself for any other queue). */
export function baseQueueOf(queue: string): string {
  const at = Math.max(queue.lastIndexOf(HOST_QUEUE_MARK), queue.lastIndexOf(WORKER_QUEUE_MARK));
  return at > 0 ? queue.slice(0, at) : queue;
}

export const headersSchema = lazySchema(() => z
  .record(z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "header names are letters, digits, . _ -"), z.string().max(1_024))
  .refine((headers) => Object.keys(headers).length <= 32, { message: "at most 32 headers" }));

/** A glob over task types: `*` matches any run of characters. */
export const typeGlobSchema = lazySchema(() => z.string().min(1).max(255).regex(/^[A-Za-z0-9._\-:@/*]+$/, "type globs use the task type characters and *"));

export const routeRuleInputSchema = lazySchema(() => z.strictObject({
  to: queueNameSchema,
  type: typeGlobSchema.optional(),
  headers: headersSchema.optional(),
  /** Share of matching tasks routed, 0-100 (default 100), decided by hash of the task id or of header `by`. */
  percent: z.number().min(0).max(100).optional(),
  by: z.string().min(1).max(64).optional(),
  /** A routed task not started by then goes back to the source queue ("0s" = never); default 30s. */
  fallbackAfter: z.union([durationSchema, z.literal("0s"), z.literal("0")]).optional(),
}));
export type RouteRuleInput = z.input<typeof routeRuleInputSchema>;

export const routeRuleSchema = lazySchema(() => z.object({
  id: z.string(),
  to: z.string(),
  type: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  percent: z.number(),
  by: z.string().optional(),
  fallbackAfterMs: z.number().int(),
}));
export type RouteRule = z.infer<typeof routeRuleSchema>;

export const routeStatsSchema = lazySchema(() => z.object({
  routed: z.number().int(),
  started: z.number().int(),
  fellBack: z.number().int(),
  /** Routed tasks waiting in the target right now. */
  stranded: z.number().int(),
}));

export const routeTableSchema = lazySchema(() => z.object({
  queue: z.string(),
  version: z.number().int(),
  rules: z.array(routeRuleSchema.extend({ stats: routeStatsSchema.optional() })),
}));
export type RouteTable = z.infer<typeof routeTableSchema>;

export const routeAddRequestSchema = lazySchema(() => z.strictObject({
  rule: routeRuleInputSchema,
  /** The version this change was based on; a stale one is a 409. */
  expectedVersion: z.number().int().min(0).optional(),
  /** Add even though the target has no live poller. */
  force: z.boolean().optional(),
}));
export type RouteAddRequest = z.input<typeof routeAddRequestSchema>;

export const routeRemoveRequestSchema = lazySchema(() => z.strictObject({ expectedVersion: z.number().int().min(0).optional() }));

export const routeRollbackRequestSchema = lazySchema(() => z.strictObject({
  version: z.number().int().min(0),
  expectedVersion: z.number().int().min(0).optional(),
  force: z.boolean().optional(),
}));

export const routeTestRequestSchema = lazySchema(() => z.strictObject({
  type: z.string().min(1).max(255),
  headers: headersSchema.optional(),
  id: z.string().min(1).max(255).optional(),
}));

export const routeTestResponseSchema = lazySchema(() => z.object({
  queue: z.string(),
  /** The rule that routed it; absent when the task stays on the source queue. */
  ruleId: z.string().optional(),
  fallbackAfterMs: z.number().int().optional(),
}));
export type RouteTestResponse = z.infer<typeof routeTestResponseSchema>;

export const routeHistoryResponseSchema = lazySchema(() => z.object({
  queue: z.string(),
  versions: z.array(z.object({ version: z.number().int(), createdAt: z.string(), change: z.string(), rules: z.array(routeRuleSchema) })),
}));
export type RouteHistoryResponse = z.infer<typeof routeHistoryResponseSchema>;

export { QUEUE_NAME_PATTERN };
