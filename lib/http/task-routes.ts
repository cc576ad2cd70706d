/** Handlers of the task routes: parse with the protocol schema, call the daemon, render. */
import {
  cancelRequestSchema,
  completeRequestSchema,
  enqueueBatchBodySchema,
  enqueueBodySchema,
  failRequestSchema,
  heartbeatRequestSchema,
  pollRequestSchema,
  taskWaitQuerySchema,
} from "../protocol/index.ts";
import { batchAnswerOf, batchStatusOf, enqueueAnswerOf, enqueueCommandOf } from "./enqueue-command.ts";
import { invalidRequest } from "./errors.ts";
import { renderLeasedTasks, renderTaskView, isoTime } from "./render-task.ts";
import { queueParam, taskParam } from "./path-params.ts";
import { jsonText, readJsonBody, readOptionalJsonBody } from "./request-body.ts";
import { json, rawJson, type RouteContext } from "./route-context.ts";


export async function enqueueTask(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, enqueueBodySchema, context.settings.maxBodyBytes);
  const [outcome] = await context.daemon.enqueue(queue, [enqueueCommandOf(body, queue)]);
  return json(enqueueAnswerOf(outcome!, context.daemon.typoWarning(queue)), outcome!.created ? 201 : 200);
}

export async function enqueueBatch(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, enqueueBatchBodySchema, context.settings.maxBodyBytes);
  const outcomes = await context.daemon.enqueue(queue, body.tasks.map((task) => enqueueCommandOf(task, queue)));
  return json(batchAnswerOf(outcomes, context.daemon.typoWarning(queue)), batchStatusOf(outcomes));
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
  const record = await context.daemon.fail(id, body.leaseToken, body.error);
  return json({ id, state: record.state });
}

export async function heartbeatTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const body = await readJsonBody(context.request, heartbeatRequestSchema, context.settings.maxBodyBytes);
  const { leaseDeadline, cancelRequested } = await context.daemon.heartbeat(id, body.leaseToken, jsonText(body.details));
  return json({ leaseDeadline: isoTime(leaseDeadline), cancelRequested });
}

export function explainTask(context: RouteContext): Response {
  const id = taskParam(context);
  const { record, reason, message, until } = context.daemon.explain(id);
  return json({ id, state: record.state, reason, message, ...(until === undefined ? {} : { until: isoTime(until) }) });
}

export async function cancelTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  await readOptionalJsonBody(context, cancelRequestSchema);
  const { record, cancelRequested } = await context.daemon.cancel(id);
  return json({ id, state: record.state, cancelRequested });
}

export async function getTask(context: RouteContext): Promise<Response> {
  const id = taskParam(context);
  const query = taskWaitQuerySchema.safeParse(Object.fromEntries(new URL(context.request.url).searchParams));
  if (!query.success) throw invalidRequest(query.error);
  const details = await context.daemon.getTask(id, query.data.waitMs ?? 0, context.request.signal);
  return rawJson(renderTaskView(details));
}
