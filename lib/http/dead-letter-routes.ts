/** Handlers of the dead-letter routes of a queue. */
import { deadListQuerySchema, deadPurgeRequestSchema, deadRequeueRequestSchema } from "../protocol/index.ts";
import { invalidRequest } from "./errors.ts";
import { renderDeadTask } from "./render-task.ts";
import { readJsonBody, readOptionalJsonBody } from "./request-body.ts";
import { queueParam } from "./path-params.ts";
import { json, rawJson, type RouteContext } from "./route-context.ts";

export async function listDead(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const query = deadListQuerySchema.safeParse(Object.fromEntries(new URL(context.request.url).searchParams));
  if (!query.success) throw invalidRequest(query.error);
  const records = context.daemon.deadLetters.list(queue, query.data.limit ?? 100);
  return rawJson(`{"tasks":[${records.map(renderDeadTask).join(",")}]}`);
}

export async function requeueDead(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readJsonBody(context.request, deadRequeueRequestSchema, context.settings.maxBodyBytes);
  const requeued = await context.daemon.deadLetters.requeue(queue, body.ids ? { ids: body.ids } : { all: true });
  return json({ requeued });
}

export async function purgeDead(context: RouteContext): Promise<Response> {
  const queue = queueParam(context);
  const body = await readOptionalJsonBody(context, deadPurgeRequestSchema);
  const purged = await context.daemon.deadLetters.purge(queue, body.olderThan);
  return json({ purged });
}

