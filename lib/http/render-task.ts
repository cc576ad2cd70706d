/**
 * Core records to wire JSON. Inputs, results, errors and heartbeat details are stored as raw
 * JSON text and spliced into the answer as they are: the server never parses and
 * re-serializes a payload on the way out.
 */
import type { LiveTask, TaskOptions, TaskRecord } from "../core/index.ts";
import type { TaskDetails } from "../daemon/index.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const str = (value: string) => JSON.stringify(value);

/**
 * The ISO text of a lease deadline, remembered for the next: the tasks of one poll answer
 * mostly share their deadline (leased at once, with one start-to-close timeout), and
 * `toISOString` was about 0.45 µs a task in a drain's profile of the daemon.
 */
let lastDeadline = Number.NaN;
let lastDeadlineIso = "";
function deadlineIso(ms: number): string {
  if (ms !== lastDeadline) {
    lastDeadline = ms;
    lastDeadlineIso = iso(ms);
  }
  return lastDeadlineIso;
}

/** `{"tasks":[...]}` for a poll answer. */
export function renderLeasedTasks(tasks: readonly LiveTask[]): string {
  const parts: string[] = [];
  for (const task of tasks) {
    const lease = task.lease!;
    let text = `{"id":${str(task.id)},"queue":${str(task.queue)},"type":${str(task.type)}`;
    if (task.inputJson !== undefined) text += `,"input":${task.inputJson}`;
    text += `,"attempt":${task.attempt},"priority":${task.priority},"leaseToken":"${lease.token}","leaseDeadline":"${deadlineIso(lease.deadline)}"`;
    if (task.options.heartbeatMs !== undefined) text += `,"heartbeatTimeoutMs":${task.options.heartbeatMs}`;
    if (task.heartbeatJson !== undefined) text += `,"lastHeartbeat":${task.heartbeatJson}`;
    if (task.headers !== undefined) text += `,"headers":${JSON.stringify(task.headers)}`;
    parts.push(text + "}");
  }
  return `{"tasks":[${parts.join(",")}]}`;
}

/** The full task view of `GET /v1/tasks/{id}`. */
export function renderTaskView({ record, attempts }: TaskDetails): string {
  const fields: string[] = [
    `"id":${str(record.id)}`,
    `"queue":${str(record.queue)}`,
    `"type":${str(record.type)}`,
    `"state":"${record.state}"`,
    `"attempt":${record.attempt}`,
    `"priority":${record.priority}`,
  ];
  if (record.inputJson !== undefined) fields.push(`"input":${record.inputJson}`);
  if (record.resultJson !== undefined) fields.push(`"result":${record.resultJson}`);
  if (record.errorJson !== undefined) fields.push(`"error":${record.errorJson}`);
  if (record.heartbeatJson !== undefined) fields.push(`"heartbeatDetails":${record.heartbeatJson}`);
  if (record.worker !== undefined) fields.push(`"worker":${str(record.worker)}`);
  if (record.cancelRequested) fields.push(`"cancelRequested":true`);
  fields.push(`"createdAt":"${iso(record.createdAt)}"`);
  if (record.runAt !== undefined && record.state === "scheduled") fields.push(`"runAt":"${iso(record.runAt)}"`);
  if (record.startedAt !== undefined) fields.push(`"startedAt":"${iso(record.startedAt)}"`);
  if (record.finishedAt !== undefined) fields.push(`"finishedAt":"${iso(record.finishedAt)}"`);
  if (record.leaseDeadline !== undefined && record.state === "running") fields.push(`"leaseDeadline":"${iso(record.leaseDeadline)}"`);
  fields.push(...renderOptions(record.options));
  if (record.headers !== undefined) fields.push(`"headers":${JSON.stringify(record.headers)}`);
  if (record.fairnessKey !== undefined) fields.push(`"fairnessKey":${str(record.fairnessKey)}`);
  if (record.routedFrom !== undefined) fields.push(`"routedFrom":${str(record.routedFrom)}`);
  if (record.routeRuleId !== undefined) fields.push(`"routeRuleId":${str(record.routeRuleId)}`);
  if (record.fallbackQueue !== undefined && record.fallbackAt !== undefined) {
    fields.push(`"fallbackQueue":${str(record.fallbackQueue)}`, `"fallbackAt":"${iso(record.fallbackAt)}"`);
  }
  fields.push(`"attempts":[${attempts.map(renderAttempt).join(",")}]`);
  return `{${fields.join(",")}}`;
}

function renderOptions(options: TaskOptions): string[] {
  const fields = [`"startToCloseTimeoutMs":${options.startToCloseMs}`];
  if (options.scheduleToStartMs !== undefined) fields.push(`"scheduleToStartTimeoutMs":${options.scheduleToStartMs}`);
  if (options.scheduleToCloseMs !== undefined) fields.push(`"scheduleToCloseTimeoutMs":${options.scheduleToCloseMs}`);
  if (options.heartbeatMs !== undefined) fields.push(`"heartbeatTimeoutMs":${options.heartbeatMs}`);
  const r = options.retry;
  fields.push(
    `"retryPolicy":{"initialIntervalMs":${r.initialIntervalMs},"backoffCoefficient":${r.backoffCoefficient},"maxIntervalMs":${r.maxIntervalMs},"maxAttempts":${r.maxAttempts},"nonRetryableErrorTypes":${JSON.stringify(r.nonRetryableErrorTypes)}}`,
  );
  return fields;
}

function renderAttempt(attempt: TaskDetails["attempts"][number]): string {
  let text = `{"attempt":${attempt.attempt},"worker":${str(attempt.worker)},"startedAt":"${iso(attempt.startedAt)}","outcome":"${attempt.outcome}"`;
  if ("endedAt" in attempt) text += `,"endedAt":"${iso(attempt.endedAt)}"`;
  if ("errorJson" in attempt && attempt.errorJson !== undefined) text += `,"error":${attempt.errorJson}`;
  return text + "}";
}

/** A dead-letter listing entry. */
export function renderDeadTask(record: TaskRecord): string {
  return (
    `{"id":${str(record.id)},"type":${str(record.type)},"state":"${record.state}","attempt":${record.attempt}` +
    (record.errorJson === undefined ? "" : `,"error":${record.errorJson}`) +
    `,"finishedAt":"${iso(record.finishedAt ?? record.createdAt)}"}`
  );
}

export function isoTime(ms: number): string {
  return iso(ms);
}
