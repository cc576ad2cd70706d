/**
 * What `tqd workflow describe` and `tqd explain` show of an execution: its current step (the
 * workflow task, pending activities, timers, sessions) and, for explain, why each outstanding
 * task waits.
 */
import { NotFoundError, type TaskRecord, type WorkflowRecord, type WorkflowSession } from "../core/index.ts";
import type { WorkflowEngine } from "./workflow-engine.ts";

export interface WorkflowDescription {
  record: WorkflowRecord;
  workflowTask?: { id: string; queue: string; state: string; attempt: number; errorJson: string | undefined };
  pendingActivities: { seq: number; type: string; taskId: string; queue: string; state: string; attempt: number; session: number | undefined }[];
  timers: { seq: number; fireAt: number }[];
  sessions: WorkflowSession[];
  blockedOn: string[];
}

export interface WorkflowExplanation {
  record: WorkflowRecord;
  reason: string;
  message: string;
  blockedOn: string[];
  pending: { taskId: string; reason: string; message: string }[];
}

type ReadTask = (id: string) => TaskRecord | undefined;
type ExplainTask = (id: string) => { reason: string; message: string };

export function describeWorkflow(engine: WorkflowEngine, readTask: ReadTask, readSessions: (id: string) => WorkflowSession[], id: string): WorkflowDescription {
  const record = engine.read(id);
  if (!record) throw new NotFoundError(`workflow ${id} not found`);
  const outstanding = engine.outstanding(id);
  const blockedOn = record.blockedOnJson === undefined ? [] : (JSON.parse(record.blockedOnJson) as string[]);
  const description: WorkflowDescription = {
    record,
    pendingActivities: [],
    timers: outstanding?.timers ?? [],
    sessions: outstanding?.sessions ?? readSessions(id),
    blockedOn,
  };
  if (record.taskId !== undefined) {
    const task = readTask(record.taskId);
    if (task) description.workflowTask = { id: task.id, queue: task.queue, state: task.state, attempt: record.taskFailures + 1, errorJson: record.lastTaskErrorJson };
  } else if (record.lastTaskErrorJson !== undefined) {
    description.workflowTask = { id: "", queue: record.queue, state: "none", attempt: record.taskFailures, errorJson: record.lastTaskErrorJson };
  }
  for (const link of outstanding?.activities ?? []) {
    const task = readTask(link.taskId);
    description.pendingActivities.push({
      seq: link.seq,
      type: link.type,
      taskId: link.taskId,
      queue: task?.queue ?? "",
      state: task?.state ?? "unknown",
      attempt: task?.attempt ?? 0,
      session: link.session,
    });
  }
  return description;
}

export function explainWorkflow(engine: WorkflowEngine, explainTask: ExplainTask, id: string): WorkflowExplanation {
  const record = engine.read(id);
  if (!record) throw new NotFoundError(`workflow ${id} not found`);
  const blockedOn = record.blockedOnJson === undefined ? [] : (JSON.parse(record.blockedOnJson) as string[]);
  if (record.state !== "running") {
    return { record, reason: record.state, message: `the workflow ${record.state} at ${new Date(record.closedAt ?? record.createdAt).toISOString()}`, blockedOn, pending: [] };
  }
  const outstanding = engine.outstanding(id);
  const pending: WorkflowExplanation["pending"] = [];
  const explainOne = (taskId: string) => {
    try {
      pending.push({ taskId, ...explainTask(taskId) });
    } catch {
      // Finished between the two reads: nothing left to explain.
    }
  };
  if (record.taskId !== undefined) {
    explainOne(record.taskId);
    const task = pending[0];
    const failed = record.lastTaskErrorJson === undefined ? "" : ` (its last ${record.taskFailures} attempt(s) failed: ${errorText(record.lastTaskErrorJson)})`;
    return { record, reason: "workflow_task", message: `a workflow task is outstanding${failed}${task ? ` (${task.message})` : ""}`, blockedOn, pending };
  }
  for (const link of outstanding?.activities ?? []) explainOne(link.taskId);
  for (const session of outstanding?.sessions ?? []) if (session.state === "requested") explainOne(session.taskId);
  const waits = blockedOn.length > 0 ? blockedOn.join("; ") : "nothing the worker reported";
  return { record, reason: "blocked", message: `the workflow code waits for: ${waits}`, blockedOn, pending };
}

function errorText(errorJson: string): string {
  const error = JSON.parse(errorJson) as { type?: string; message?: string };
  return `${error.type ?? "error"}: ${error.message ?? ""}`;
}
