/**
 * Request and response contracts of the task routes. The server parses requests with these
 * schemas; the client, the worker and the CLI parse responses with them.
 */
import * as z from "zod";
import { durationSchema } from "./duration.ts";
import { identitySchema, queueNameSchema, taskIdSchema, taskTypeSchema } from "./names.ts";

/** Every state a task can be in; `completed` and `failed` are final. */
export const TASK_STATES = ["pending", "running", "completed", "failed"] as const;
export type TaskStateName = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: readonly TaskStateName[] = ["completed", "failed"];

/** Upper bounds that keep one request from monopolising the daemon. */
export const LIMITS = {
  batchTasks: 10_000,
  pollMax: 1_000,
  pollTypes: 100,
  pollWaitMs: 60_000,
  taskWaitMs: 60_000,
  errorMessageChars: 16_384,
} as const;

export const DEFAULT_POLL_WAIT_MS = 30_000;

export const enqueueRequestSchema = z.strictObject({
  type: taskTypeSchema,
  input: z.unknown().optional(),
  id: taskIdSchema.optional(),
  startToCloseTimeout: durationSchema.optional(),
});
export type EnqueueRequest = z.input<typeof enqueueRequestSchema>;

export const enqueueBatchRequestSchema = z.strictObject({
  tasks: z.array(enqueueRequestSchema).min(1).max(LIMITS.batchTasks),
});
export type EnqueueBatchRequest = z.input<typeof enqueueBatchRequestSchema>;

export const enqueueResponseSchema = z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  created: z.boolean(),
});
export type EnqueueResponse = z.infer<typeof enqueueResponseSchema>;

export const enqueueBatchResponseSchema = z.object({ tasks: z.array(enqueueResponseSchema) });
export type EnqueueBatchResponse = z.infer<typeof enqueueBatchResponseSchema>;

export const pollRequestSchema = z.strictObject({
  identity: identitySchema,
  types: z.array(taskTypeSchema).min(1).max(LIMITS.pollTypes),
  max: z.number().int().min(1).max(LIMITS.pollMax).default(1),
  waitMs: z.number().int().min(0).max(LIMITS.pollWaitMs).default(DEFAULT_POLL_WAIT_MS),
});
export type PollRequest = z.input<typeof pollRequestSchema>;

export const leasedTaskSchema = z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  input: z.unknown().optional(),
  attempt: z.number().int(),
  leaseToken: z.string(),
  /** ISO 8601; the worker must finish or heartbeat before it. */
  leaseDeadline: z.string(),
});
export type LeasedTask = z.infer<typeof leasedTaskSchema>;

export const pollResponseSchema = z.object({ tasks: z.array(leasedTaskSchema) });
export type PollResponse = z.infer<typeof pollResponseSchema>;

const leaseTokenSchema = z.string().min(1).max(200);

export const completeRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  result: z.unknown().optional(),
});
export type CompleteRequest = z.input<typeof completeRequestSchema>;

export const taskErrorSchema = z.object({
  type: z.string().min(1).max(255),
  message: z.string().max(LIMITS.errorMessageChars),
});
export type TaskError = z.infer<typeof taskErrorSchema>;

export const failRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  error: taskErrorSchema,
});
export type FailRequest = z.input<typeof failRequestSchema>;

export const settleResponseSchema = z.object({ id: z.string(), state: z.enum(TASK_STATES) });
export type SettleResponse = z.infer<typeof settleResponseSchema>;

export const heartbeatRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  details: z.unknown().optional(),
});
export type HeartbeatRequest = z.input<typeof heartbeatRequestSchema>;

export const heartbeatResponseSchema = z.object({
  leaseDeadline: z.string(),
  cancelRequested: z.boolean(),
});
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

export const taskViewSchema = z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  state: z.enum(TASK_STATES),
  attempt: z.number().int(),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  error: taskErrorSchema.optional(),
  heartbeatDetails: z.unknown().optional(),
  worker: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  leaseDeadline: z.string().optional(),
  startToCloseTimeoutMs: z.number().int(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

/** `GET /v1/tasks/{id}?waitMs=N`: waits until the task is final or time is up. */
export const taskWaitQuerySchema = z.object({
  waitMs: z.coerce.number().int().min(0).max(LIMITS.taskWaitMs).optional(),
});

export { queueNameSchema, taskIdSchema };
