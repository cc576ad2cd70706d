/**
 * Dead-letter contracts: tasks that ended `failed` or `timed_out` stay listed per queue until
 * requeued (with a fresh attempt budget), purged, or removed by retention.
 */
import * as z from "zod";
import { durationSchema } from "./duration.ts";
import { taskIdSchema } from "./names.ts";
import { TASK_STATES } from "./task-states.ts";
import { LIMITS, taskErrorSchema } from "./tasks.ts";

export const deadTaskSchema = z.lazy(() => z.object({
  id: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  attempt: z.number().int(),
  error: taskErrorSchema.optional(),
  finishedAt: z.string(),
}));
export type DeadTask = z.infer<typeof deadTaskSchema>;

export const deadListQuerySchema = z.lazy(() => z.object({
  limit: z.coerce.number().int().min(1).max(LIMITS.listLimit).optional(),
}));

export const deadListResponseSchema = z.lazy(() => z.object({ tasks: z.array(deadTaskSchema) }));
export type DeadListResponse = z.infer<typeof deadListResponseSchema>;

export const deadRequeueRequestSchema = z.lazy(() => z
  .strictObject({
    ids: z.array(taskIdSchema).min(1).max(LIMITS.batchTasks).optional(),
    all: z.literal(true).optional(),
  })
  .refine((body) => (body.ids === undefined) !== (body.all === undefined), { message: "give ids or all: true (one of them)", path: ["ids"] }));
export type DeadRequeueRequest = z.input<typeof deadRequeueRequestSchema>;

export const deadRequeueResponseSchema = z.lazy(() => z.object({ requeued: z.array(z.string()) }));
export type DeadRequeueResponse = z.infer<typeof deadRequeueResponseSchema>;

export const deadPurgeRequestSchema = z.lazy(() => z.strictObject({ olderThan: durationSchema.optional() }));
export type DeadPurgeRequest = z.input<typeof deadPurgeRequestSchema>;

export const deadPurgeResponseSchema = z.lazy(() => z.object({ purged: z.number().int() }));
export type DeadPurgeResponse = z.infer<typeof deadPurgeResponseSchema>;
