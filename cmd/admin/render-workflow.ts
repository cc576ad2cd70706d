/**
 * How `tqd workflow describe`, `tqd workflow ls` and `tqd explain` (for a workflow) show their
 * answers.
 *
 * describe, plain (pipes): `key value` lines like `tqd get` (fields the workflow does not have
 * are left out; payloads are one-line JSON), then one line per live part, first word naming it:
 *   workflowTask ID QUEUE STATE ATTEMPT [ERROR_JSON]
 *   nondeterminism MESSAGE                       (when the last workflow task failed replaying)
 *   activity SEQ TYPE TASK_ID QUEUE STATE ATTEMPT SESSION     (SESSION `-` outside a session)
 *   timer SEQ FIRE_AT
 *   session SEQ QUEUE STATE WORKER WORKER_QUEUE               (`-` until a worker holds it)
 *   blockedOn TEXT                               (TEXT is the rest of the line)
 * describe, human (TTY): aligned `key: value` lines, a `!` block when the workflow task hit a
 * nondeterminism, then tables of pending activities, timers and sessions, and what it waits for.
 */
import type { TaskError, WorkflowExplainResponse, WorkflowListResponse, WorkflowView } from "../../lib/protocol/index.ts";
import { formatDuration } from "../../lib/protocol/index.ts";
import { escapeColumn, escapeControlCharacters, renderTable, truncate } from "./text-layout.ts";

/**
 * Whether a workflow task error says the code no longer replays its history. The worker names
 * such errors by type (`nondeterminism`, in any case or as part of a longer name).
 */
export function isNondeterminism(error: TaskError | undefined): boolean {
  return error !== undefined && /nondetermin/i.test(error.type);
}

const json = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));
const orDash = (text: string | undefined): string => (text === undefined ? "-" : escapeColumn(text));

/** `Type: message`, on one line. */
export function describeWorkflowError(error: TaskError): string {
  return `${error.type}: ${escapeControlCharacters(error.message)}`;
}

function scalarFields(view: WorkflowView): [string, string][] {
  const fields: [string, string | undefined][] = [
    ["id", view.id],
    ["type", view.type],
    ["queue", view.queue],
    ["state", view.state],
    ["createdAt", view.createdAt],
    ["closedAt", view.closedAt],
    ["lastEventId", String(view.lastEventId)],
    ["input", json(view.input)],
    ["result", json(view.result)],
    ["error", json(view.error)],
  ];
  return fields.filter((field): field is [string, string] => field[1] !== undefined);
}

/** `key value` lines for scripts (see the header for the format). */
export function renderWorkflowPlain(view: WorkflowView): string {
  const lines = scalarFields(view).map(([key, value]) => `${key} ${value}`);
  const task = view.workflowTask;
  if (task) {
    const columns = ["workflowTask", task.id, task.queue, task.state, String(task.attempt)];
    if (task.error) columns.push(JSON.stringify(task.error));
    lines.push(columns.join(" "));
    if (isNondeterminism(task.error)) lines.push(`nondeterminism ${escapeControlCharacters(task.error!.message)}`);
  }
  for (const activity of view.pendingActivities) {
    const session = activity.session === undefined ? "-" : String(activity.session);
    lines.push(["activity", activity.seq, activity.type, activity.taskId, activity.queue, activity.state, activity.attempt, session].join(" "));
  }
  for (const timer of view.timers) lines.push(`timer ${timer.seq} ${timer.fireAt}`);
  for (const session of view.sessions) {
    lines.push(["session", session.seq, session.queue, session.state, orDash(session.worker), orDash(session.workerQueue)].join(" "));
  }
  for (const text of view.blockedOn) lines.push(`blockedOn ${escapeControlCharacters(text)}`);
  return lines.map((line) => line + "\n").join("");
}

/** Longest payload shown on a terminal before it is cut (the plain layout and --json keep it whole). */
const HUMAN_PAYLOAD_CHARS = 200;

/** A person's view: summary lines, a nondeterminism warning, then tables. `nowMs` dates the timers. */
export function renderWorkflowHuman(view: WorkflowView, nowMs: number): string {
  const fields: [string, string | undefined][] = [
    ["workflow", view.id],
    ["type", view.type],
    ["queue", view.queue],
    ["state", view.state],
    ["created", view.createdAt],
    ["closed", view.closedAt],
    ["events", `${view.lastEventId} (tqd workflow history ${view.id})`],
    ["input", payload(view.input)],
    ["result", view.state === "completed" ? (payload(view.result) ?? "null") : undefined],
    ["error", view.error ? describeWorkflowError(view.error) : undefined],
    ["workflow task", view.workflowTask ? describeWorkflowTask(view.workflowTask) : undefined],
    ["last task error", view.workflowTask?.error && !isNondeterminism(view.workflowTask.error) ? describeWorkflowError(view.workflowTask.error) : undefined],
  ];
  const shown = fields.filter((field): field is [string, string] => field[1] !== undefined);
  const width = Math.max(...shown.map(([key]) => key.length)) + 1;
  let text = shown.map(([key, value]) => `${(key + ":").padEnd(width)} ${value}\n`).join("");
  if (view.workflowTask?.error && isNondeterminism(view.workflowTask.error)) text += nondeterminismWarning(view.workflowTask.error);
  text += activitiesSection(view) + timersSection(view, nowMs) + sessionsSection(view) + blockedOnSection(view);
  return text;
}

function payload(value: unknown): string | undefined {
  return value === undefined ? undefined : truncate(JSON.stringify(value), HUMAN_PAYLOAD_CHARS);
}

function describeWorkflowTask(task: NonNullable<WorkflowView["workflowTask"]>): string {
  return `${task.id} on ${task.queue}, ${task.state}, attempt ${task.attempt}`;
}

function nondeterminismWarning(error: TaskError): string {
  return [
    `! NONDETERMINISM: ${escapeControlCharacters(error.message)}`,
    "! The workflow code no longer issues the commands its history recorded. The workflow stays",
    "! running and its task is retried; deploy code that replays this history to let it go on.",
    "",
  ].join("\n");
}

function activitiesSection(view: WorkflowView): string {
  if (view.pendingActivities.length === 0) return "";
  const rows = view.pendingActivities.map((activity) => [
    String(activity.seq),
    activity.type,
    activity.taskId,
    activity.queue,
    activity.state,
    String(activity.attempt),
    activity.session === undefined ? "" : String(activity.session),
  ]);
  return "pending activities:\n" + renderTable([["SEQ", "TYPE", "TASK", "QUEUE", "STATE", "ATTEMPT", "SESSION"], ...rows], { indent: "  " });
}

function timersSection(view: WorkflowView, nowMs: number): string {
  if (view.timers.length === 0) return "";
  const rows = view.timers.map((timer) => [String(timer.seq), timer.fireAt, fromNow(Date.parse(timer.fireAt), nowMs)]);
  return "timers:\n" + renderTable([["SEQ", "FIRES AT", "IN"], ...rows], { indent: "  " });
}

/** `4s`, `2m` (whole seconds, in the largest exact unit), or `due` for a time already passed. */
function fromNow(atMs: number, nowMs: number): string {
  if (!Number.isFinite(atMs)) return "?";
  const seconds = Math.ceil((atMs - nowMs) / 1_000);
  return seconds <= 0 ? "due" : formatDuration(seconds * 1_000);
}

function sessionsSection(view: WorkflowView): string {
  if (view.sessions.length === 0) return "";
  const rows = view.sessions.map((session) => [
    String(session.seq),
    session.queue,
    session.state,
    escapeControlCharacters(session.worker ?? "-"),
    session.workerQueue ?? "-",
  ]);
  return "sessions:\n" + renderTable([["SEQ", "QUEUE", "STATE", "WORKER", "WORKER QUEUE"], ...rows], { indent: "  " });
}

function blockedOnSection(view: WorkflowView): string {
  if (view.state !== "running") return "";
  if (view.blockedOn.length === 0) return "blocked on: nothing reported yet (no workflow task has completed)\n";
  return "blocked on:\n" + view.blockedOn.map((text) => `  - ${escapeControlCharacters(text)}\n`).join("");
}

type WorkflowSummary = WorkflowListResponse["workflows"][number];

/** `ID TYPE QUEUE STATE CREATED_AT CLOSED_AT` per line (CLOSED_AT `-` while running). */
export function renderWorkflowListPlain(workflows: readonly WorkflowSummary[]): string {
  return workflows.map((w) => `${w.id} ${w.type} ${w.queue} ${w.state} ${w.createdAt} ${w.closedAt ?? "-"}\n`).join("");
}

export function renderWorkflowListHuman(workflows: readonly WorkflowSummary[]): string {
  if (workflows.length === 0) return "no workflows\n";
  const rows = workflows.map((w) => [w.id, w.type, w.queue, w.state, w.createdAt, w.closedAt ?? "-"]);
  return renderTable([["ID", "TYPE", "QUEUE", "STATE", "CREATED", "CLOSED"], ...rows]);
}

/**
 * `tqd explain` for a workflow. The first line is the server's message in both layouts (as for a
 * task); then, plain: `blockedOn TEXT` and `pending TASK_ID REASON MESSAGE` lines (MESSAGE is the
 * rest of the line); human: the same as indented sentences.
 */
export function renderWorkflowExplain(answer: WorkflowExplainResponse, human: boolean): string {
  const lines = [escapeControlCharacters(answer.message)];
  if (human) {
    for (const text of answer.blockedOn) lines.push(`  waits for: ${escapeControlCharacters(text)}`);
    for (const task of answer.pending) lines.push(`  task ${task.taskId}: ${escapeControlCharacters(task.message)}`);
  } else {
    for (const text of answer.blockedOn) lines.push(`blockedOn ${escapeControlCharacters(text)}`);
    for (const task of answer.pending) lines.push(`pending ${task.taskId} ${escapeColumn(task.reason)} ${escapeControlCharacters(task.message)}`);
  }
  return lines.map((line) => line + "\n").join("");
}
