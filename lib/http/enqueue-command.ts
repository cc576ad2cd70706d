/** The daemon's enqueue command for a parsed enqueue body: shared by the HTTP routes and the stream. */
import type { EnqueueCommand, EnqueueOutcome } from "../daemon/index.ts";
import { baseQueueOf, DEFAULT_PRIORITY, type EnqueueRequestParsed } from "../protocol/index.ts";
import { HttpError } from "./errors.ts";
import { jsonText } from "./request-body.ts";
import { taskOptionsOf } from "./task-options-of.ts";

/** A batch answers 201 when it created at least one task, else 200 (all were there already). */
export const batchStatusOf = (outcomes: readonly { created: boolean }[]): number => (outcomes.some((outcome) => outcome.created) ? 201 : 200);

/** A single enqueue's answer: its outcome, with the typo guard's warning if the queue has one. */
export const enqueueAnswerOf = (outcome: EnqueueOutcome, warning: string | undefined): EnqueueOutcome & { warning?: string } =>
  warning === undefined ? outcome : { ...outcome, warning };

/**
 * A batch's answer: the outcomes in request order and the typo guard's warning once. The
 * warning is about the queue, so repeating it per task would double the answer of a batch
 * to a queue no worker polled yet (W1's batches, before its worker starts, in bench/NOTES.md).
 */
export const batchAnswerOf = (outcomes: readonly EnqueueOutcome[], warning: string | undefined): { tasks: readonly EnqueueOutcome[]; warning?: string } =>
  warning === undefined ? { tasks: outcomes } : { tasks: outcomes, warning };

/** Maps the wire request to the daemon's command (which checks timeout combinations: 400). */
export function enqueueCommandOf(body: EnqueueRequestParsed, queue: string): EnqueueCommand {
  const options = taskOptionsOf(body);
  return {
    id: body.id,
    type: body.type,
    inputJson: jsonText(body.input),
    priority: body.priority ?? DEFAULT_PRIORITY,
    fairnessKey: body.fairnessKey,
    headers: body.headers,
    fallbackAfterMs: body.fallbackAfter,
    fallbackQueue: fallbackQueueOf(body, queue),
    options,
    runAt: body.runAt === undefined ? undefined : Date.parse(body.runAt),
    delayMs: body.delay,
    ifExists: body.ifExists,
  };
}

/** A fallback goes to the named queue, else to the base queue of a host or worker queue. */
function fallbackQueueOf(body: EnqueueRequestParsed, queue: string): string | undefined {
  if (body.fallbackAfter === undefined) return body.fallbackQueue;
  const target = body.fallbackQueue ?? baseQueueOf(queue);
  if (target === queue) {
    throw new HttpError("invalid_argument", `fallbackAfter needs fallbackQueue: ${queue} is not a host or worker queue, so it has no base queue to fall back to`);
  }
  return target;
}
