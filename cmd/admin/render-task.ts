/**
 * How `tqd get` shows a task. Both layouts list the same fields, named as in the protocol's
 * TaskView, in the same order, leaving out fields the task does not have:
 * - plain (pipes): `key value` lines; the value is the rest of the line. Structured values
 *   (input, result, error, heartbeatDetails, retryPolicy) are one-line JSON; free text with
 *   control characters is JSON-escaped so that one field is always one line. Then one
 *   `attempts N WORKER STARTED_AT ENDED_AT OUTCOME [ERROR_JSON]` line per attempt, oldest first:
 *   ENDED_AT is `-` while the attempt runs, ERROR_JSON (the rest of the line) only when it failed,
 *   WORKER is JSON-escaped when it contains spaces.
 * - human (TTY): `key: value` lines with the values aligned, timeouts as durations, the retry
 *   policy in words, then the attempts as a small table.
 */
import { formatDuration, type AttemptView, type TaskView } from "../../lib/protocol/index.ts";
import { escapeColumn, escapeControlCharacters, renderTable } from "./text-layout.ts";

type Field = readonly [key: string, value: string];

const json = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));
const number = (value: number | undefined): string | undefined => (value === undefined ? undefined : String(value));

/** The fields of `task` in display order, each rendered for a plain layout. */
function taskFields(task: TaskView): Field[] {
  const fields: [string, string | undefined][] = [
    ["id", task.id],
    ["queue", task.queue],
    ["type", task.type],
    ["state", task.state],
    ["priority", String(task.priority)],
    ["attempt", String(task.attempt)],
    ["cancelRequested", task.cancelRequested ? "true" : undefined],
    ["worker", task.worker === undefined ? undefined : escapeControlCharacters(task.worker)],
    ["createdAt", task.createdAt],
    ["runAt", task.runAt],
    ["startedAt", task.startedAt],
    ["finishedAt", task.finishedAt],
    ["leaseDeadline", task.leaseDeadline],
    ["scheduleToStartTimeoutMs", number(task.scheduleToStartTimeoutMs)],
    ["startToCloseTimeoutMs", String(task.startToCloseTimeoutMs)],
    ["scheduleToCloseTimeoutMs", number(task.scheduleToCloseTimeoutMs)],
    ["heartbeatTimeoutMs", number(task.heartbeatTimeoutMs)],
    ["retryPolicy", json(task.retryPolicy)],
    ["input", json(task.input)],
    ["result", json(task.result)],
    ["error", json(task.error)],
    ["heartbeatDetails", json(task.heartbeatDetails)],
  ];
  return fields.filter((field): field is [string, string] => field[1] !== undefined);
}

/** `key value` lines for scripts (see the header for the format). */
export function renderTaskPlain(task: TaskView): string {
  const fields = taskFields(task).map(([key, value]) => `${key} ${value}\n`);
  const attempts = (task.attempts ?? []).map((attempt) => `attempts ${renderAttemptPlain(attempt)}\n`);
  return fields.join("") + attempts.join("");
}

/** `N WORKER STARTED_AT ENDED_AT OUTCOME [ERROR_JSON]`. */
function renderAttemptPlain(attempt: AttemptView): string {
  const columns = [String(attempt.attempt), escapeColumn(attempt.worker), attempt.startedAt, attempt.endedAt ?? "-", attempt.outcome];
  if (attempt.error) columns.push(JSON.stringify(attempt.error));
  return columns.join(" ");
}

/** Human labels for the timeouts, which the plain layout names by their protocol keys. */
const DURATION_FIELDS: Record<string, string> = {
  scheduleToStartTimeoutMs: "scheduleToStartTimeout",
  startToCloseTimeoutMs: "startToCloseTimeout",
  scheduleToCloseTimeoutMs: "scheduleToCloseTimeout",
  heartbeatTimeoutMs: "heartbeatTimeout",
};

/** Aligned `key: value` lines for a person at a terminal, then the attempt table. */
export function renderTaskHuman(task: TaskView): string {
  const fields = taskFields(task).map(([key, value]): Field => {
    const durationLabel = DURATION_FIELDS[key];
    if (durationLabel !== undefined) return [durationLabel, formatDuration(Number(value))];
    if (key === "retryPolicy") return [key, describeRetryPolicy(task.retryPolicy)];
    if (key === "error" && task.error) return [key, describeError(task.error)];
    return [key, value];
  });
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  const lines = fields.map(([key, value]) => `${(key + ":").padEnd(width)} ${value}\n`).join("");
  return task.attempts && task.attempts.length > 0 ? lines + "attempts:\n" + renderAttemptsTable(task.attempts) : lines;
}

/** `10 attempts, backoff 1s x2 up to 100s, never retried: A, B`. */
function describeRetryPolicy(policy: TaskView["retryPolicy"]): string {
  const attempts = policy.maxAttempts === 1 ? "1 attempt (no retries)" : `${policy.maxAttempts} attempts`;
  const backoff = `backoff ${formatDuration(policy.initialIntervalMs)} x${policy.backoffCoefficient} up to ${formatDuration(policy.maxIntervalMs)}`;
  const never = policy.nonRetryableErrorTypes.length > 0 ? `, never retried: ${policy.nonRetryableErrorTypes.join(", ")}` : "";
  return `${attempts}, ${backoff}${never}`;
}

function describeError(error: NonNullable<TaskView["error"]>): string {
  return `${error.type}: ${escapeControlCharacters(error.message)}${error.nonRetryable ? " (non-retryable)" : ""}`;
}

const ATTEMPT_HEADERS = ["#", "WORKER", "STARTED", "ENDED", "OUTCOME", "ERROR"];

/** The attempt history as an indented table with a header. */
function renderAttemptsTable(attempts: readonly AttemptView[]): string {
  const rows = attempts.map((attempt) => [
    String(attempt.attempt),
    escapeControlCharacters(attempt.worker),
    attempt.startedAt,
    attempt.endedAt ?? "-",
    attempt.outcome,
    attempt.error ? describeError(attempt.error) : "",
  ]);
  return renderTable([ATTEMPT_HEADERS, ...rows], { indent: "  " });
}
