/** The path parameters routes take, validated against the protocol's grammars (400 otherwise). */
import { queueNameSchema, taskIdSchema } from "../protocol/index.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext } from "./route-context.ts";

export function queueParam(context: RouteContext): string {
  const parsed = queueNameSchema.safeParse(context.params.queue);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid queue name: ${parsed.error.issues[0]?.message ?? "bad name"}`);
  return parsed.data;
}

export function taskParam(context: RouteContext): string {
  const parsed = taskIdSchema.safeParse(context.params.id);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid task id: ${parsed.error.issues[0]?.message ?? "bad id"}`);
  return parsed.data;
}
