/** The path parameters routes take, validated against the protocol's grammars (400 otherwise). */
import { isQueueName, isTaskId, queueNameSchema, taskIdSchema } from "../protocol/index.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext } from "./route-context.ts";

export function queueParam(context: RouteContext): string {
  return queueNameOf(context.params.queue);
}

/**
 * A queue name from a path or a worker-stream frame; 400 naming the rule it breaks. A valid
 * name is recognised by the schema's own pattern first: a zod parse on every request costs the
 * daemon more than the pattern (see bench/NOTES.md, "Hot path"); the schema still words the errors.
 */
export function queueNameOf(text: string | undefined): string {
  if (text !== undefined && isQueueName(text)) return text;
  const parsed = queueNameSchema.safeParse(text);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid queue name: ${parsed.error.issues[0]?.message ?? "bad name"}`);
  return parsed.data;
}

export function taskParam(context: RouteContext): string {
  return taskIdOf(context.params.id);
}

/** A task id from a path or a stream frame; 400 naming the rule it breaks. */
export function taskIdOf(id: string | undefined): string {
  if (id !== undefined && isTaskId(id)) return id;
  const parsed = taskIdSchema.safeParse(id);
  if (!parsed.success) throw new HttpError("invalid_argument", `invalid task id: ${parsed.error.issues[0]?.message ?? "bad id"}`);
  return parsed.data;
}
