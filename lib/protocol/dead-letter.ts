/**
 * Dead-letter contracts: tasks that ended `failed` or `timed_out` stay listed per queue until
 * requeued (with a fresh attempt budget), purged, or removed by retention.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { durationSchema } from "./duration.ts";
import { taskIdSchema } from "./names.ts";
import { TASK_STATES } from "./task-states.ts";
import { LIMITS, taskErrorSchema } from "./tasks.ts";

export const deadTaskSchema = lazySchema(() => z.object({
  id: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  attempt: z.number().int(),
  error: taskErrorSchema.optional(),
  finishedAt: z.string(),
}));
export type DeadTask = z.infer<typeof deadTaskSchema>;

export const deadListQuerySchema = lazySchema(() => z.object({
  limit: z.coerce.number().int().min(1).max(LIMITS.listLimit).optional(),
}));

export const deadListResponseSchema = lazySchema(() => z.object({ tasks: z.array(deadTaskSchema) }));
export type DeadListResponse = z.infer<typeof deadListResponseSchema>;

export const deadRequeueRequestSchema = lazySchema(() => z
  .strictObject({
    ids: z.array(taskIdSchema).min(1).max(LIMITS.batchTasks).optional(),
    all: z.literal(true).optional(),
  })
  .refine((body) => (body.ids === undefined) !== (body.all === undefined), { message: "give ids or all: true (one of them)", path: ["ids"] }));
export type DeadRequeueRequest = z.input<typeof deadRequeueRequestSchema>;

export const deadRequeueResponseSchema = lazySchema(() => z.object({ requeued: z.array(z.string()) }));
export type DeadRequeueResponse = z.infer<typeof deadRequeueResponseSchema>;

export const deadPurgeRequestSchema = lazySchema(() => z.strictObject({ olderThan: durationSchema.optional() }));
export type DeadPurgeRequest = z.input<typeof deadPurgeRequestSchema>;

export const deadPurgeResponseSchema = lazySchema(() => z.object({ purged: z.number().int() }));
export type DeadPurgeResponse = z.infer<typeof deadPurgeResponseSchema>;
