/** Handlers of the task routes: parse with the protocol schema, call the daemon, render. */
import {
  completeRequestSchema,
  enqueueBatchRequestSchema,
  enqueueRequestSchema,
  failRequestSchema,
  heartbeatRequestSchema,
  pollRequestSchema,
  queueNameSchema,
  taskIdSchema,
  taskWaitQuerySchema,
} from "../protocol/index.ts";
import type { EnqueueCommand } from "../daemon/index.ts";
import { HttpError, invalidRequest } from "./errors.ts";
import { renderLeasedTasks, renderTaskView, isoTime } from "./render-task.ts";
import { jsonText, readJsonBody } from "./request-body.ts";
import { json, rawJson, type RouteContext } from "./route-context.ts";

type EnqueueBody = ReturnType<typeof enqueueRequestSchema.parse>;

export async function enqueueTask(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, enqueueRequestSchema, context.settings.maxBodyBytes);
  const [outcome] = await context.daemon.enqueue(queue, [commandOf(body, context)]);
  return json(outcome, outcome!.created ? 201 : 200);
}

export async function enqueueBatch(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, enqueueBatchRequestSchema, context.settings.maxBodyBytes);
  const outcomes = await context.daemon.enqueue(queue, body.tasks.map((task) => commandOf(task, context)));
  return json({ tasks: outcomes }, outcomes.some((outcome) => outcome.created) ? 201 : 200);
}

export async function pollTasks(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, pollRequestSchema, context.settings.maxBodyBytes);
  const tasks = await context.daemon.poll({ queue, ...body }, context.request.signal);
  return rawJson(renderLeasedTasks(tasks));
}

export async function completeTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const body = await readJsonBody(context.request, completeRequestSchema, context.settings.maxBodyBytes);
  const record = await context.daemon.complete(id, body.leaseToken, jsonText(body.result));
  return json({ id, state: record.state });
}

export async function failTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const body = await readJsonBody(context.request, failRequestSchema, context.settings.maxBodyBytes);
  const record = await context.daemon.fail(id, body.leaseToken, JSON.stringify(body.error));
  return json({ id, state: record.state });
}

export async function heartbeatTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const body = await readJsonBody(context.request, heartbeatRequestSchema, context.settings.maxBodyBytes);
  const { leaseDeadline } = await context.daemon.heartbeat(id, body.leaseToken, jsonText(body.details));
  return json({ leaseDeadline: isoTime(leaseDeadline), cancelRequested: false });
}

export async function getTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const query = taskWaitQuerySchema.safeParse(Object.fromEntries(new URL(context.request.url).searchParams));
  if (!query.success) throw invalidRequest(query.error);
  const record = await context.daemon.getTask(id, query.data.waitMs ?? 0, context.request.signal);
  return rawJson(renderTaskView(record));
}

function commandOf(body: EnqueueBody, context: RouteContext): EnqueueCommand {
  return {
    id: body.id,
    type: body.type,
    inputJson: jsonText(body.input),
    startToCloseMs: body.startToCloseTimeout ?? context.settings.defaultStartToCloseMs,
  };
}

function queueParam(context: RouteContext): string {
  const parsed = queueNameSchema.safeParse(context.params.queue);
  if (!parsed.success) {
    throw new HttpError("invalid_argument", `invalid queue name: ${parsed.error.issues[0]?.message ?? "bad name"}`);
  }
  return parsed.data;
}

function taskParam(context: RouteContext): string {
  const parsed = taskIdSchema.safeParse(context.params.id);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid task id: ${parsed.error.issues[0]?.message ?? "bad id"}`);
  return parsed.data;
}
