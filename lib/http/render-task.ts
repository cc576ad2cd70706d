/**
 * Core records to wire JSON. Inputs, results, errors and heartbeat details are stored as raw
 * JSON text and spliced into the answer as they are: the server never parses and
 * re-serializes a payload on the way out.
 */
import type { LiveTask, TaskRecord } from "../core/index.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** `{"tasks":[...]}` for a poll answer. */
export function renderLeasedTasks(tasks: readonly LiveTask[]): string {
  const parts: string[] = [];
  for (const task of tasks) {
    const lease = task.lease!;
    parts.push(
      `{"id":${JSON.stringify(task.id)},"queue":${JSON.stringify(task.queue)},"type":${JSON.stringify(task.type)}` +
        (task.inputJson === undefined ? "" : `,"input":${task.inputJson}`) +
        `,"attempt":${task.attempt},"leaseToken":"${lease.token}","leaseDeadline":"${iso(lease.deadline)}"}`,
    );
  }
  return `{"tasks":[${parts.join(",")}]}`;
}

/** The full task view of `GET /v1/tasks/{id}`. */
export function renderTaskView(record: TaskRecord): string {
  const fields: string[] = [
    `"id":${JSON.stringify(record.id)}`,
    `"queue":${JSON.stringify(record.queue)}`,
    `"type":${JSON.stringify(record.type)}`,
    `"state":"${record.state}"`,
    `"attempt":${record.attempt}`,
  ];
  if (record.inputJson !== undefined) fields.push(`"input":${record.inputJson}`);
  if (record.resultJson !== undefined) fields.push(`"result":${record.resultJson}`);
  if (record.errorJson !== undefined) fields.push(`"error":${record.errorJson}`);
  if (record.heartbeatJson !== undefined) fields.push(`"heartbeatDetails":${record.heartbeatJson}`);
  if (record.worker !== undefined) fields.push(`"worker":${JSON.stringify(record.worker)}`);
  fields.push(`"createdAt":"${iso(record.createdAt)}"`);
  if (record.startedAt !== undefined) fields.push(`"startedAt":"${iso(record.startedAt)}"`);
  if (record.finishedAt !== undefined) fields.push(`"finishedAt":"${iso(record.finishedAt)}"`);
  if (record.leaseDeadline !== undefined && record.state === "running") fields.push(`"leaseDeadline":"${iso(record.leaseDeadline)}"`);
  fields.push(`"startToCloseTimeoutMs":${record.startToCloseMs}`);
  return `{${fields.join(",")}}`;
}

export function isoTime(ms: number): string {
  return iso(ms);
}
