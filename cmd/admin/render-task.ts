/**
 * How `tqd get` shows a task. Both layouts list the same fields, named as in the protocol's
 * TaskView, in the same order, leaving out fields the task does not have:
 * - plain (pipes): `key value` lines; the value is the rest of the line. Structured values
 *   (input, result, error, heartbeatDetails) are one-line JSON; free text with control
 *   characters is JSON-escaped so that one field is always one line.
 * - human (TTY): `key: value` lines with the values aligned, and the timeout as a duration.
 */
import { formatDuration, type TaskView } from "../../lib/protocol/index.ts";

type Field = readonly [key: string, value: string];

/** The fields of `task` in display order, each rendered for a plain layout. */
function taskFields(task: TaskView): Field[] {
  const fields: [string, string | undefined][] = [
    ["id", task.id],
    ["queue", task.queue],
    ["type", task.type],
    ["state", task.state],
    ["attempt", String(task.attempt)],
    ["worker", task.worker === undefined ? undefined : escapeControlCharacters(task.worker)],
    ["createdAt", task.createdAt],
    ["startedAt", task.startedAt],
    ["finishedAt", task.finishedAt],
    ["leaseDeadline", task.leaseDeadline],
    ["startToCloseTimeoutMs", String(task.startToCloseTimeoutMs)],
    ["input", task.input === undefined ? undefined : JSON.stringify(task.input)],
    ["result", task.result === undefined ? undefined : JSON.stringify(task.result)],
    ["error", task.error === undefined ? undefined : JSON.stringify(task.error)],
    ["heartbeatDetails", task.heartbeatDetails === undefined ? undefined : JSON.stringify(task.heartbeatDetails)],
  ];
  return fields.filter((field): field is [string, string] => field[1] !== undefined);
}

/** `key value` lines for scripts (see the header for the format). */
export function renderTaskPlain(task: TaskView): string {
  return taskFields(task)
    .map(([key, value]) => `${key} ${value}\n`)
    .join("");
}

/** Aligned `key: value` lines for a person at a terminal. */
export function renderTaskHuman(task: TaskView): string {
  const fields = taskFields(task).map(([key, value]): Field => {
    if (key === "startToCloseTimeoutMs") return ["startToCloseTimeout", formatDuration(task.startToCloseTimeoutMs)];
    if (key === "error" && task.error) return [key, `${task.error.type}: ${escapeControlCharacters(task.error.message)}`];
    return [key, value];
  });
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  return fields.map(([key, value]) => `${(key + ":").padEnd(width)} ${value}\n`).join("");
}

/** Keeps free text on one line: strings with control characters become JSON string literals. */
function escapeControlCharacters(text: string): string {
  return /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : text;
}
