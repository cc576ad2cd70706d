/**
 * One planned change to workflow executions, committed with the task change that caused it (a
 * settle, a timer pass, a dispatch) or on its own (a start, a signal, a fired timer). Planning
 * mutates the in-memory execution (`WorkflowMemo`) right away and allocates event ids, so two
 * changes planned in the same turn stack up in order; the store commits them in that order
 * (group commit is FIFO). If a commit fails, the engine reloads the executions it touched.
 */
import type { LiveTask, TaskRecord, WorkflowLink, WorkflowRecord, WorkflowSession } from "../core/index.ts";
import type { StoreOp } from "../store/index.ts";

/** A running execution as the daemon holds it: its row, and what is outstanding. */
export interface WorkflowMemo {
  record: WorkflowRecord;
  /** Live activity tasks by command seq. */
  activities: Map<number, WorkflowLink>;
  sessions: Map<number, WorkflowSession>;
  /** Timers by seq: epoch ms they fire at. */
  timers: Map<number, number>;
}

export interface PlannedCancel {
  task: LiveTask;
  after: TaskRecord;
}

export class WorkflowChange {
  readonly ops: StoreOp[] = [];
  readonly newTasks: LiveTask[] = [];
  readonly cancels: PlannedCancel[] = [];
  readonly timers: { workflowId: string; seq: number; at: number }[] = [];
  /** Executions this change closed: they leave memory and their waiters wake. */
  readonly closed: string[] = [];
  /** Executions whose row must be saved at the end of the change. */
  readonly touched = new Set<WorkflowMemo>();
  /** Workflow tasks answered with commands, by how the worker produced them (for /metrics). */
  mode: "fresh" | "cached" | "replay" | undefined;

  constructor(readonly now: number) {}

  /** Appends an event to the execution's history; returns its id. `body` holds `kind` and the attributes. */
  appendEvent(memo: WorkflowMemo, body: { kind: string } & Record<string, unknown>): number {
    const id = ++memo.record.lastEventId;
    this.ops.push({ op: "workflow.appendEvent", event: { workflowId: memo.record.id, id, at: this.now, kind: body.kind, bodyJson: JSON.stringify(body) } });
    this.touched.add(memo);
    return id;
  }

  /** Executions whose rows were saved, with the last event id each had then. */
  readonly saved: { workflowId: string; lastEventId: number }[] = [];

  /** The ops in commit order: the changes, then each touched execution's row. */
  finish(): StoreOp[] {
    for (const memo of this.touched) {
      this.ops.push({ op: "workflow.save", workflow: { ...memo.record } });
      this.saved.push({ workflowId: memo.record.id, lastEventId: memo.record.lastEventId });
    }
    this.touched.clear();
    return this.ops;
  }

  get isEmpty(): boolean {
    return this.ops.length === 0 && this.touched.size === 0;
  }
}

/** A JSON column's value for an event body (undefined stays undefined). */
export function parsedJson(json: string | undefined): unknown {
  return json === undefined ? undefined : JSON.parse(json);
}

/** The `{type, message}` an activity or holder task ended with, for its event. */
export function errorOfTask(task: TaskRecord): { type: string; message: string } {
  if (task.errorJson !== undefined) {
    const error = JSON.parse(task.errorJson) as { type?: string; message?: string };
    return { type: error.type ?? task.state, message: error.message ?? task.state };
  }
  return { type: task.state, message: `the task ended ${task.state}` };
}
