/**
 * The workflow contract: the event history the server keeps for each execution, the commands
 * a worker answers a workflow task with, and the workflow routes' bodies.
 *
 * A workflow task is an ordinary task of type `tqd.workflow:<WorkflowType>` whose input names
 * the execution; a session holder is a task of type `tqd.session`. The worker reads the history
 * (`GET /v1/workflows/{id}/history?after=N`), runs or replays the workflow function, and answers
 * with commands (`POST /v1/workflows/{id}/task-complete`). Every command that the server turns
 * into an event carries the `seq` the workflow code gave it, so a replay can check that the code
 * still issues the same commands in the same order (see `commandMatchesEvent`).
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";
import { durationSchema } from "./duration.ts";
import { IF_EXISTS, PRIORITY_MAX, PRIORITY_MIN, retryPolicySchema } from "./enqueue.ts";
import { queueNameSchema, taskIdSchema, taskTypeSchema } from "./names.ts";
import { workerQueueName } from "./routing.ts";
import { taskErrorSchema } from "./tasks.ts";

export const WORKFLOW_TASK_TYPE_PREFIX = "tqd.workflow:";
export const SESSION_TASK_TYPE = "tqd.session";

export function workflowTaskType(workflowType: string): string {
  return `${WORKFLOW_TASK_TYPE_PREFIX}${workflowType}`;
}

/** The workflow type a workflow task runs, or undefined for any other task type. */
export function workflowTypeOfTask(taskType: string): string | undefined {
  return taskType.startsWith(WORKFLOW_TASK_TYPE_PREFIX) ? taskType.slice(WORKFLOW_TASK_TYPE_PREFIX.length) : undefined;
}

export const WORKFLOW_STATES = ["running", "completed", "failed", "canceled"] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

/** How a worker produced a workflow task's commands; counted in /metrics. */
export const WORKFLOW_TASK_MODES = ["fresh", "cached", "replay"] as const;
export type WorkflowTaskMode = (typeof WORKFLOW_TASK_MODES)[number];

/** Defaults the server applies (README: Workflows). */
export const WORKFLOW_DEFAULTS = {
  stickyTimeoutMs: 5_000,
  workflowTaskTimeoutMs: 10_000,
  sessionHeartbeatTimeoutMs: 20_000,
  sessionCreationTimeoutMs: 60_000,
  maxSessionsPerWorker: 1_000,
} as const;

const seqSchema = lazySchema(() => z.number().int().min(1).max(1_000_000_000));
/** 1-200 characters of `A-Z a-z 0-9 . _ -`. */
export const WORKFLOW_TYPE_PATTERN = /^[A-Za-z0-9._\-]{1,200}$/;
export const workflowTypeSchema = lazySchema(() => z.string().regex(WORKFLOW_TYPE_PATTERN, "workflow types are 1-200 characters of A-Z a-z 0-9 . _ -"));
export const workflowIdSchema = lazySchema(() => taskIdSchema);

/** What an activity may say about its task: the task semantics that already exist. */
export const activityOptionsSchema = lazySchema(() => z.strictObject({
  /** Default: the workflow's queue; ignored inside a session (its worker's queue). */
  queue: queueNameSchema.optional(),
  priority: z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).optional(),
  scheduleToStartTimeout: durationSchema.optional(),
  startToCloseTimeout: durationSchema.optional(),
  scheduleToCloseTimeout: durationSchema.optional(),
  heartbeatTimeout: durationSchema.optional(),
  retryPolicy: retryPolicySchema.optional(),
}));
export type ActivityOptions = z.input<typeof activityOptionsSchema>;

export const sessionOptionsSchema = lazySchema(() => z.strictObject({
  queue: queueNameSchema,
  /** How long creation waits for a worker with a free session slot (default 60 s). */
  creationTimeout: durationSchema.optional(),
  /** The session fails when its worker is silent this long (default 20 s). */
  heartbeatTimeout: durationSchema.optional(),
}));
export type SessionOptions = z.input<typeof sessionOptionsSchema>;

// ---- commands (worker -> server) -------------------------------------------------------------

export const workflowCommandSchema = lazySchema(() => z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("scheduleActivity"),
    seq: seqSchema,
    type: taskTypeSchema,
    input: z.unknown().optional(),
    /** The session (its createSession seq) the activity runs in. */
    session: seqSchema.optional(),
    options: activityOptionsSchema.optional(),
  }),
  z.strictObject({ kind: z.literal("startTimer"), seq: seqSchema, durationMs: z.number().int().min(0).max(365 * 86_400_000) }),
  z.strictObject({ kind: z.literal("createSession"), seq: seqSchema, options: sessionOptionsSchema }),
  z.strictObject({ kind: z.literal("completeSession"), seq: seqSchema }),
  z.strictObject({ kind: z.literal("completeWorkflow"), result: z.unknown().optional() }),
  z.strictObject({ kind: z.literal("failWorkflow"), error: taskErrorSchema }),
]));
export type WorkflowCommand = z.input<typeof workflowCommandSchema>;
export type WorkflowCommandParsed = z.output<typeof workflowCommandSchema>;

// ---- events (the history) --------------------------------------------------------------------

/** The fields every event has; a function, so the schemas are made with the events' union. */
const eventBase = () => ({ id: z.number().int().min(1), at: z.string() });

export const workflowEventSchema = lazySchema(() => z.discriminatedUnion("kind", [
  z.object({ ...eventBase(), kind: z.literal("workflow.started"), type: z.string(), queue: z.string(), input: z.unknown().optional(), randomSeed: z.number().int() }),
  /** A workflow task ended with commands: they follow as events. `seenUpTo` is the last event it saw. */
  z.object({ ...eventBase(), kind: z.literal("workflowTask.completed"), seenUpTo: z.number().int(), worker: z.string(), mode: z.enum(WORKFLOW_TASK_MODES) }),
  z.object({ ...eventBase(), kind: z.literal("activity.scheduled"), seq: z.number().int(), type: z.string(), queue: z.string(), taskId: z.string(), session: z.number().int().optional() }),
  z.object({ ...eventBase(), kind: z.literal("activity.completed"), seq: z.number().int(), result: z.unknown().optional() }),
  /** state: how the activity's task ended (failed after its retries, timed_out, canceled). */
  z.object({ ...eventBase(), kind: z.literal("activity.failed"), seq: z.number().int(), state: z.string(), error: taskErrorSchema }),
  z.object({ ...eventBase(), kind: z.literal("timer.started"), seq: z.number().int(), durationMs: z.number().int(), fireAt: z.string() }),
  z.object({ ...eventBase(), kind: z.literal("timer.fired"), seq: z.number().int() }),
  z.object({ ...eventBase(), kind: z.literal("signal.received"), name: z.string(), payload: z.unknown().optional() }),
  z.object({ ...eventBase(), kind: z.literal("session.requested"), seq: z.number().int(), queue: z.string(), taskId: z.string() }),
  /** The session holder started on a worker; its activities go to `workerQueue`. */
  z.object({ ...eventBase(), kind: z.literal("session.created"), seq: z.number().int(), worker: z.string(), workerQueue: z.string() }),
  z.object({ ...eventBase(), kind: z.literal("session.failed"), seq: z.number().int(), error: taskErrorSchema }),
  z.object({ ...eventBase(), kind: z.literal("session.completed"), seq: z.number().int() }),
  z.object({ ...eventBase(), kind: z.literal("workflow.completed"), result: z.unknown().optional() }),
  z.object({ ...eventBase(), kind: z.literal("workflow.failed"), error: taskErrorSchema }),
  z.object({ ...eventBase(), kind: z.literal("workflow.canceled"), reason: z.string().optional() }),
]));
export type WorkflowEvent = z.infer<typeof workflowEventSchema>;
export type WorkflowEventKind = WorkflowEvent["kind"];

/** Events the server appends as the record of a command (the rest record what happened). */
export const COMMAND_EVENT_KINDS: ReadonlySet<WorkflowEventKind> = new Set([
  "activity.scheduled",
  "timer.started",
  "session.requested",
  "session.completed",
  "workflow.completed",
  "workflow.failed",
]);

/**
 * Whether a command issued on replay is the one history recorded at that point: same kind, same
 * seq, and for activities the same type, for sessions the same queue. Inputs may differ (as in
 * Temporal): they are data, not control flow.
 */
export function commandMatchesEvent(command: WorkflowCommandParsed, event: WorkflowEvent): boolean {
  switch (command.kind) {
    case "scheduleActivity":
      return event.kind === "activity.scheduled" && event.seq === command.seq && event.type === command.type;
    case "startTimer":
      return event.kind === "timer.started" && event.seq === command.seq;
    case "createSession":
      return event.kind === "session.requested" && event.seq === command.seq && event.queue === command.options.queue;
    case "completeSession":
      return event.kind === "session.completed" && event.seq === command.seq;
    case "completeWorkflow":
      return event.kind === "workflow.completed";
    case "failWorkflow":
      return event.kind === "workflow.failed";
  }
}

/** A command in words, for nondeterminism errors: `activity "upload" (seq 3)`. */
export function describeCommand(command: WorkflowCommandParsed): string {
  switch (command.kind) {
    case "scheduleActivity":
      return `activity "${command.type}" (seq ${command.seq})`;
    case "startTimer":
      return `timer of ${command.durationMs} ms (seq ${command.seq})`;
    case "createSession":
      return `session on "${command.options.queue}" (seq ${command.seq})`;
    case "completeSession":
      return `completion of session seq ${command.seq}`;
    case "completeWorkflow":
      return "workflow completion";
    case "failWorkflow":
      return "workflow failure";
  }
}

/** A command event in words, for nondeterminism errors. */
export function describeCommandEvent(event: WorkflowEvent): string {
  switch (event.kind) {
    case "activity.scheduled":
      return `activity "${event.type}" (seq ${event.seq})`;
    case "timer.started":
      return `timer of ${event.durationMs} ms (seq ${event.seq})`;
    case "session.requested":
      return `session on "${event.queue}" (seq ${event.seq})`;
    case "session.completed":
      return `completion of session seq ${event.seq}`;
    case "workflow.completed":
      return "workflow completion";
    case "workflow.failed":
      return "workflow failure";
    default:
      return event.kind;
  }
}

// ---- routes ----------------------------------------------------------------------------------

export const workflowStartRequestSchema = lazySchema(() => z.strictObject({
  type: workflowTypeSchema,
  queue: queueNameSchema,
  input: z.unknown().optional(),
  id: workflowIdSchema.optional(),
  /** reject (default): 409 when the id names a closed workflow; return: answer with it; new: start over. */
  ifExists: z.enum(IF_EXISTS).optional(),
  /** How long the next workflow task waits for the worker that holds the workflow in its cache. */
  stickyTimeout: durationSchema.optional(),
}));
export type WorkflowStartRequest = z.input<typeof workflowStartRequestSchema>;

export const workflowStartResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  type: z.string(),
  queue: z.string(),
  state: z.enum(WORKFLOW_STATES),
  created: z.boolean(),
}));
export type WorkflowStartResponse = z.infer<typeof workflowStartResponseSchema>;

/** The input of a workflow task (what `poll` hands the worker). */
export const workflowTaskInputSchema = lazySchema(() => z.object({ workflowId: z.string(), workflowType: z.string() }));
export type WorkflowTaskInput = z.infer<typeof workflowTaskInputSchema>;

/** The input of a session holder task. */
export const sessionTaskInputSchema = lazySchema(() => z.object({ workflowId: z.string(), seq: z.number().int(), queue: z.string() }));
export type SessionTaskInput = z.infer<typeof sessionTaskInputSchema>;

export const LIMITS_WORKFLOW = {
  commandsPerTask: 10_000,
  historyPage: 10_000,
  blockedOn: 100,
} as const;

export const workflowTaskCompleteRequestSchema = lazySchema(() => z.strictObject({
  taskId: taskIdSchema,
  leaseToken: z.string().min(1).max(200),
  /** The last history event the worker applied before producing `commands`. */
  seenUpTo: z.number().int().min(1),
  commands: z.array(workflowCommandSchema).max(LIMITS_WORKFLOW.commandsPerTask),
  mode: z.enum(WORKFLOW_TASK_MODES),
  /** What the workflow code waits for now, in words (shown by describe and explain). */
  blockedOn: z.array(z.string().max(500)).max(LIMITS_WORKFLOW.blockedOn).optional(),
}));
export type WorkflowTaskCompleteRequest = z.input<typeof workflowTaskCompleteRequestSchema>;

export const workflowTaskCompleteResponseSchema = lazySchema(() => z.object({
  /** The id of the last event in the history after the commands were recorded. */
  lastEventId: z.number().int(),
  state: z.enum(WORKFLOW_STATES),
}));
export type WorkflowTaskCompleteResponse = z.infer<typeof workflowTaskCompleteResponseSchema>;

export const workflowHistoryResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  type: z.string(),
  queue: z.string(),
  state: z.enum(WORKFLOW_STATES),
  lastEventId: z.number().int(),
  events: z.array(workflowEventSchema),
}));
export type WorkflowHistoryResponse = z.infer<typeof workflowHistoryResponseSchema>;

export const workflowSignalRequestSchema = lazySchema(() => z.strictObject({
  name: z.string().min(1).max(255),
  payload: z.unknown().optional(),
}));
export type WorkflowSignalRequest = z.input<typeof workflowSignalRequestSchema>;

export const workflowCancelRequestSchema = lazySchema(() => z.strictObject({ reason: z.string().max(1_000).optional() }));

export const pendingActivityViewSchema = lazySchema(() => z.object({
  seq: z.number().int(),
  type: z.string(),
  taskId: z.string(),
  queue: z.string(),
  state: z.string(),
  attempt: z.number().int(),
  session: z.number().int().optional(),
}));

export const sessionViewSchema = lazySchema(() => z.object({
  seq: z.number().int(),
  queue: z.string(),
  state: z.enum(["requested", "open", "completed", "failed"]),
  worker: z.string().optional(),
  workerQueue: z.string().optional(),
}));

export const workflowViewSchema = lazySchema(() => z.object({
  id: z.string(),
  type: z.string(),
  queue: z.string(),
  state: z.enum(WORKFLOW_STATES),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  error: taskErrorSchema.optional(),
  createdAt: z.string(),
  closedAt: z.string().optional(),
  lastEventId: z.number().int(),
  /** The workflow task waiting or running, with its last error (a nondeterminism, say). */
  workflowTask: z
    .object({ id: z.string(), queue: z.string(), state: z.string(), attempt: z.number().int(), error: taskErrorSchema.optional() })
    .optional(),
  pendingActivities: z.array(pendingActivityViewSchema),
  timers: z.array(z.object({ seq: z.number().int(), fireAt: z.string() })),
  sessions: z.array(sessionViewSchema),
  blockedOn: z.array(z.string()),
}));
export type WorkflowView = z.infer<typeof workflowViewSchema>;

export const workflowListResponseSchema = lazySchema(() => z.object({
  workflows: z.array(
    z.object({ id: z.string(), type: z.string(), queue: z.string(), state: z.enum(WORKFLOW_STATES), createdAt: z.string(), closedAt: z.string().optional() }),
  ),
}));
export type WorkflowListResponse = z.infer<typeof workflowListResponseSchema>;

// ---- admin answers (CLI) -----------------------------------------------------------------------

/** `POST /v1/workflows/{id}/signal` answers 202 with the history's last event id once the signal is recorded. */
export const workflowSignalResponseSchema = lazySchema(() => z.object({ id: z.string(), lastEventId: z.number().int() }));
export type WorkflowSignalResponse = z.infer<typeof workflowSignalResponseSchema>;

/** `POST /v1/workflows/{id}/cancel`: the workflow after the cancel (more WorkflowView fields may follow). */
export const workflowCancelResponseSchema = lazySchema(() => z.object({ id: z.string(), state: z.enum(WORKFLOW_STATES) }));
export type WorkflowCancelResponse = z.infer<typeof workflowCancelResponseSchema>;

/**
 * `GET /v1/workflows/{id}/explain`: what a workflow waits for. `reason` is a short stable code
 * chosen by the server; `pending` explains each live task of the workflow (its workflow task,
 * activities, session holders) as `GET /v1/tasks/{id}/explain` would.
 */
export const workflowExplainResponseSchema = lazySchema(() => z.object({
  id: z.string(),
  state: z.enum(WORKFLOW_STATES),
  reason: z.string(),
  /** One line for people. */
  message: z.string(),
  blockedOn: z.array(z.string()),
  pending: z.array(z.object({ taskId: z.string(), reason: z.string(), message: z.string() })),
}));
export type WorkflowExplainResponse = z.infer<typeof workflowExplainResponseSchema>;

/**
 * The naming rules the daemon needs for workflows, handed to it by the composition root (the
 * daemon does not import the wire contract).
 */
export const WORKFLOW_NAMING = {
  workflowTaskType,
  sessionTaskType: SESSION_TASK_TYPE,
  workerQueueName,
} as const;
