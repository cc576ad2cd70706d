/** Handlers of the workflow routes: parse with the protocol schema, call the daemon, render. */
import type { StoredWorkflowEvent, WorkflowRecord } from "../core/index.ts";
import type { WorkflowCommandInput } from "../daemon/index.ts";
import {
  LIMITS_WORKFLOW,
  taskIdSchema,
  workflowCancelRequestSchema,
  workflowSignalRequestSchema,
  workflowStartRequestSchema,
  workflowTaskCompleteRequestSchema,
  WORKFLOW_STATES,
  type WorkflowCommandParsed,
} from "../protocol/index.ts";
import * as wire from "../protocol/index.ts";
import { HttpError } from "./errors.ts";
import { queueNameSchema } from "../protocol/index.ts";
import { isoTime } from "./render-task.ts";
import { jsonText, readJsonBody, readOptionalJsonBody } from "./request-body.ts";
import { json, rawJson, type RouteContext } from "./route-context.ts";
import { taskOptionsOf } from "./task-options-of.ts";

function workflowParam(context: RouteContext): string {
  const parsed = taskIdSchema.safeParse(context.params.id);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid workflow id: ${parsed.error.issues[0]?.message ?? "bad id"}`);
  return parsed.data;
}

function query(context: RouteContext): URLSearchParams {
  return new URL(context.request.url).searchParams;
}

/** A non-negative integer query parameter, or `fallback` when absent. */
function intParam(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > max) throw new HttpError("invalid_argument", `${name} must be an integer from 0 to ${max}`);
  return value;
}

export async function startWorkflow(context: RouteContext): Promise<Response> {
  const body = await readJsonBody(context.request, workflowStartRequestSchema, context.settings.maxBodyBytes);
  const { record, created } = await context.daemon.startWorkflow({
    id: body.id,
    type: body.type,
    queue: body.queue,
    inputJson: jsonText(body.input),
    ifExists: body.ifExists,
    stickyTimeoutMs: body.stickyTimeout,
  });
  return json({ id: record.id, type: record.type, queue: record.queue, state: record.state, created }, created ? 201 : 200);
}

export function listWorkflows(context: RouteContext): Response {
  const params = query(context);
  const queue = params.get("queue") ?? undefined;
  if (queue !== undefined && !queueNameSchema.safeParse(queue).success) throw new HttpError("invalid_argument", "invalid queue name");
  const state = params.get("state") ?? undefined;
  if (state !== undefined && !(WORKFLOW_STATES as readonly string[]).includes(state)) {
    throw new HttpError("invalid_argument", `state must be one of ${WORKFLOW_STATES.join(", ")}`);
  }
  const limit = intParam(params, "limit", 100, wire.LIMITS.listLimit);
  const workflows = context.daemon.listWorkflows({ queue, state, limit });
  return json({ workflows: workflows.map(summaryOf) });
}

export async function getWorkflow(context: RouteContext): Promise<Response> {
  const id = workflowParam(context);
  const waitMs = intParam(query(context), "waitMs", 0, wire.LIMITS.taskWaitMs);
  const d = await context.daemon.describeWorkflow(id, waitMs, context.request.signal);
  const r = d.record;
  return json({
    ...summaryOf(r),
    ...(r.inputJson === undefined ? {} : { input: JSON.parse(r.inputJson) }),
    ...(r.resultJson === undefined ? {} : { result: JSON.parse(r.resultJson) }),
    ...(r.errorJson === undefined ? {} : { error: JSON.parse(r.errorJson) }),
    lastEventId: r.lastEventId,
    ...(d.workflowTask === undefined
      ? {}
      : {
          workflowTask: {
            id: d.workflowTask.id,
            queue: d.workflowTask.queue,
            state: d.workflowTask.state,
            attempt: d.workflowTask.attempt,
            ...(d.workflowTask.errorJson === undefined ? {} : { error: JSON.parse(d.workflowTask.errorJson) }),
          },
        }),
    pendingActivities: d.pendingActivities.map((a) => ({ seq: a.seq, type: a.type, taskId: a.taskId, queue: a.queue, state: a.state, attempt: a.attempt, ...(a.session === undefined ? {} : { session: a.session }) })),
    timers: d.timers.map((t) => ({ seq: t.seq, fireAt: isoTime(t.fireAt) })),
    sessions: d.sessions.map((s) => ({ seq: s.seq, queue: s.queue, state: s.state, ...(s.worker === undefined ? {} : { worker: s.worker }), ...(s.workerQueue === undefined ? {} : { workerQueue: s.workerQueue }) })),
    blockedOn: d.blockedOn,
  });
}

export function workflowHistory(context: RouteContext): Response {
  const id = workflowParam(context);
  const params = query(context);
  const after = intParam(params, "after", 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(params, "limit", LIMITS_WORKFLOW.historyPage, LIMITS_WORKFLOW.historyPage);
  const { record, events } = context.daemon.workflowHistory(id, after, limit);
  // Events are stored as JSON text: spliced, not parsed and re-serialized.
  const head = `{"id":${JSON.stringify(record.id)},"type":${JSON.stringify(record.type)},"queue":${JSON.stringify(record.queue)},"state":"${record.state}","lastEventId":${record.lastEventId},"events":[`;
  return rawJson(`${head}${events.map(renderEvent).join(",")}]}`);
}

export async function signalWorkflow(context: RouteContext): Promise<Response> {
  const id = workflowParam(context);
  const body = await readJsonBody(context.request, workflowSignalRequestSchema, context.settings.maxBodyBytes);
  const eventId = await context.daemon.workflows.signal(id, body.name, jsonText(body.payload));
  return json({ id, lastEventId: eventId }, 202);
}

export async function cancelWorkflow(context: RouteContext): Promise<Response> {
  const id = workflowParam(context);
  const body = await readOptionalJsonBody(context, workflowCancelRequestSchema);
  const record = await context.daemon.workflows.cancel(id, body.reason);
  return json({ id, state: record.state });
}

export function explainWorkflow(context: RouteContext): Response {
  const id = workflowParam(context);
  const e = context.daemon.explainWorkflow(id);
  return json({ id, state: e.record.state, reason: e.reason, message: e.message, blockedOn: e.blockedOn, pending: e.pending });
}

export async function completeWorkflowTask(context: RouteContext): Promise<Response> {
  const id = workflowParam(context);
  const body = await readJsonBody(context.request, workflowTaskCompleteRequestSchema, context.settings.maxBodyBytes);
  const record = await context.daemon.answerWorkflowTask(id, {
    taskId: body.taskId,
    leaseToken: body.leaseToken,
    seenUpTo: body.seenUpTo,
    mode: body.mode,
    blockedOn: body.blockedOn,
    commands: body.commands.map(commandOf),
  });
  return json({ lastEventId: record.lastEventId, state: record.state });
}

function commandOf(command: WorkflowCommandParsed): WorkflowCommandInput {
  switch (command.kind) {
    case "scheduleActivity": {
      const options = command.options ?? {};
      return {
        kind: "scheduleActivity",
        seq: command.seq,
        type: command.type,
        inputJson: jsonText(command.input),
        session: command.session,
        queue: options.queue,
        priority: options.priority,
        options: taskOptionsOf(options),
      };
    }
    case "startTimer":
      return command;
    case "createSession":
      return {
        kind: "createSession",
        seq: command.seq,
        queue: command.options.queue,
        creationTimeoutMs: command.options.creationTimeout,
        heartbeatTimeoutMs: command.options.heartbeatTimeout,
      };
    case "completeSession":
      return command;
    case "completeWorkflow":
      return { kind: "completeWorkflow", resultJson: jsonText(command.result) };
    case "failWorkflow":
      return { kind: "failWorkflow", error: { type: command.error.type, message: command.error.message } };
  }
}

function summaryOf(r: WorkflowRecord) {
  return { id: r.id, type: r.type, queue: r.queue, state: r.state, createdAt: isoTime(r.createdAt), ...(r.closedAt === undefined ? {} : { closedAt: isoTime(r.closedAt) }) };
}

function renderEvent(event: StoredWorkflowEvent): string {
  return `{"id":${event.id},"at":"${isoTime(event.at)}",${event.bodyJson.slice(1)}`;
}
