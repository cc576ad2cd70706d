/**
 * `POST /v1/tasks/release`: a stopping worker gives back tasks it leased but will not run. Every
 * item gets its own answer in request order (see Daemon.release); the request itself fails
 * only for a malformed body, a daemon shutting down, or an internal error.
 */
import { releaseRequestSchema, type ReleaseItemResult } from "../protocol/index.ts";
import { itemError } from "./errors.ts";
import { readJsonBody } from "./request-body.ts";
import { json, type RouteContext } from "./route-context.ts";

export async function releaseTasks(context: RouteContext): Promise<Response> {
  const body = await readJsonBody(context.request, releaseRequestSchema, context.settings.maxBodyBytes);
  const released = await context.daemon.release(body.tasks);
  const results = released.map((outcome, index): ReleaseItemResult => {
    const id = body.tasks[index]!.id;
    return "released" in outcome ? { id, released: outcome.released } : { id, error: itemError(outcome.error) };
  });
  return json({ results });
}
