/** Contracts of the queue listing routes. */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

/** Tasks of a queue by state (final ones until retention removes them). */
export const stateCountsSchema = lazySchema(() => z.object({
  scheduled: z.number().int(),
  pending: z.number().int(),
  running: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  canceled: z.number().int(),
  timedOut: z.number().int(),
}));

export const queueSummarySchema = lazySchema(() => stateCountsSchema.extend({
  name: z.string(),
  /** Polls parked on this queue right now, waiting for a task. */
  pollersWaiting: z.number().int(),
}));
export type QueueSummary = z.infer<typeof queueSummarySchema>;

export const queueListResponseSchema = lazySchema(() => z.object({ queues: z.array(queueSummarySchema) }));
export type QueueListResponse = z.infer<typeof queueListResponseSchema>;

export const healthResponseSchema = lazySchema(() => z.object({ status: z.string(), version: z.string().optional() }));
