/**
 * `POST /v1/tasks/release`: a stopping worker gives back tasks it leased but will not run. Every
 * item gets its own answer in request order (see Daemon.release); the request itself fails
 * only for a malformed body, a daemon shutting down, or an internal error.
 */
import { releaseRequestSchema, type ReleaseItemResult } from "../protocol/index.ts";
import { knownError } from "./errors.ts";
import { readJsonBody } from "./request-body.ts";
import { json, type RouteContext } from "./route-context.ts";

export async function releaseTasks(context: RouteContext): Promise<Response> {
  const body = await readJsonBody(context.request, releaseRequestSchema, context.settings.maxBodyBytes);
  const released = context.daemon.release(body.tasks);
  const results = released.map((outcome, index): ReleaseItemResult => {
    const id = body.tasks[index]!.id;
    if ("released" in outcome) return { id, released: outcome.released };
    const known = knownError(outcome.error);
    // Anything else is a bug: the whole request answers 500 with a request id, as elsewhere.
    if (!known) throw outcome.error;
    return { id, error: known };
  });
  return json({ results });
}
