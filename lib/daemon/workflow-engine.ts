/**
 * Durable workflows on top of tasks. An execution is a row, an append-only event history and a
 * few outstanding things (activity tasks, session holders, timers), all kept in memory while it
 * runs and journaled in the same commit as the task change that caused them:
 *
 * - a workflow task (type `tqd.workflow:T`) is dispatched like any task; its worker answers with
 *   commands (`completeWorkflowTask`), which become events, activity tasks, timers and sessions
 *   in the commit that settles the workflow task;
 * - an activity task's end (completed, failed after its retries, timed out, canceled) appends
 *   its event in the commit that makes the task final, so a completion is applied exactly once;
 * - every new event asks for a workflow task; at most one is outstanding per execution, and one
 *   that completes having seen fewer events than there are asks for the next at once;
 * - sticky execution: the next workflow task goes to the worker queue of the worker that
 *   completed the last one, falling back to the workflow's queue after `stickyTimeoutMs`;
 * - a workflow task that fails or times out is followed by a new one on the workflow's queue
 *   after a backoff (1 s doubling to 10 s), forever: the execution stays running until code that
 *   can run it is deployed, as in Temporal;
 * - a session is a holder task (type `tqd.session`) that runs on one worker for as long as the
 *   session is open; when it starts, its activities go to that worker's queue. Its end without
 *   `completeSession` (heartbeat timeout: the worker died; schedule-to-start timeout: no worker
 *   had a free slot) appends `session.failed` and cancels the session's activities.
 *
 * The engine commits and applies; workflow-planner.ts decides what each change contains, and
 * workflow-timers.ts holds the durable timers.
 */
import type { Clock } from "../clock/clock.ts";
import { ConflictError, InvalidArgumentError, NotFoundError, type DispatchCore, type LiveTask, type TaskRecord, type WorkflowLink, type WorkflowRecord, type WorkflowSession } from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { StoreOp, TaskStore } from "../store/index.ts";
import type { DaemonEvents } from "./daemon-events.ts";
import type { IfExists } from "./enqueue-plan.ts";
import type { IdSource } from "./task-ids.ts";
import { TaskWaiters } from "./waiters.ts";
import { parsedJson, WorkflowChange, type WorkflowMemo } from "./workflow-change.ts";
import { WorkflowPlanner, type WorkflowNaming, type WorkflowTaskAnswer } from "./workflow-planner.ts";
import { WorkflowTimers } from "./workflow-timers.ts";

export type { WorkflowCommandInput, WorkflowNaming, WorkflowTaskAnswer } from "./workflow-planner.ts";

export interface WorkflowEngineDeps {
  store: TaskStore;
  clock: Clock;
  log: Logger;
  ids: IdSource;
  core: DispatchCore;
  naming: WorkflowNaming;
  events: DaemonEvents;
  /** Makes committed new tasks dispatchable (answers parked polls, arms timers). */
  addTasks(tasks: LiveTask[]): void;
  /** Applies (or with `after` undefined, forgets) a planned cancel of a live task. */
  applyCancel(task: LiveTask, after: TaskRecord | undefined): void;
  commit(operation: string, ops: StoreOp[]): Promise<void>;
  defaultStickyTimeoutMs: number;
}

export interface StartWorkflowCommand {
  id?: string | undefined;
  type: string;
  queue: string;
  inputJson: string | undefined;
  ifExists?: IfExists | undefined;
  stickyTimeoutMs?: number | undefined;
}

/** Settles a task and commits `extend`'s change with it (Daemon.settle). */
export type SettleWithChange = (
  taskId: string,
  leaseToken: string,
  extend: (after: TaskRecord) => WorkflowChange,
) => Promise<TaskRecord>;


export class WorkflowEngine {
  private readonly planner: WorkflowPlanner;
  private readonly timers: WorkflowTimers;
  private readonly running: Map<string, WorkflowMemo>;
  private readonly links: Map<string, WorkflowLink>;
  private readonly waiters: TaskWaiters;
  /** Workflow tasks answered, by how the worker produced the commands. */
  readonly taskModes = { fresh: 0, cached: 0, replay: 0 };
  private readonly tally = { started: 0, closed: 0 };
  private stopping = false;

  constructor(private readonly deps: WorkflowEngineDeps) {
    this.waiters = new TaskWaiters(deps.clock);
    this.planner = new WorkflowPlanner({ core: deps.core, ids: deps.ids, naming: deps.naming, log: deps.log });
    this.running = this.planner.running;
    this.links = this.planner.links;
    this.timers = new WorkflowTimers(deps.clock, (now) => this.fireDue(now));
  }

  /** Executions started and closed, and workflow tasks failed, since start. */
  get counters(): { started: number; closed: number; taskFailures: number } {
    return { ...this.tally, taskFailures: this.planner.taskFailures };
  }

  /** Rebuilds the running executions from the store and starts the timer loop. */
  restore(): void {
    const loaded = this.deps.store.loadRunningWorkflows();
    for (const record of loaded.workflows) this.running.set(record.id, { record, activities: new Map(), sessions: new Map(), timers: new Map() });
    for (const link of loaded.links) {
      const memo = this.running.get(link.workflowId);
      if (!memo) continue;
      this.links.set(link.taskId, link);
      if (link.kind === "activity") memo.activities.set(link.seq, link);
    }
    for (const session of loaded.sessions) this.running.get(session.workflowId)?.sessions.set(session.seq, session);
    for (const timer of loaded.timers) {
      const memo = this.running.get(timer.workflowId);
      if (!memo) continue;
      memo.timers.set(timer.seq, timer.fireAt);
      this.timers.push(timer.fireAt, { workflowId: timer.workflowId, seq: timer.seq });
    }
    this.reconcile();
    this.timers.start();
  }

  /**
   * Boot-time repair of what a crash can leave between a task change and the workflow change
   * committed right after it (timeouts and dispatches are journaled apart from their workflow
   * events): a linked task that is already final gets its event now, a holder that is running
   * opens its session, and an execution with unseen events but no workflow task gets one.
   */
  private reconcile(): void {
    const now = this.deps.clock.now();
    const changes: WorkflowChange[] = [];
    for (const link of [...this.links.values()]) {
      // A workflow's tasks stay in memory: one that waits in the store only (a deep backlog
      // at boot, see lib/core/cold-tail.ts) is read in.
      let record: TaskRecord | undefined;
      let live = this.deps.core.getLive(link.taskId);
      if (!live) {
        record = this.deps.store.readTask(link.taskId);
        if (record) live = this.deps.core.faultIn(record);
      }
      if (live) {
        if (live.state === "running") {
          const change = this.onDispatched(live, now);
          if (change) changes.push(change);
        }
        continue;
      }
      if (record) {
        const change = this.onTaskEnded(record, now);
        if (change) changes.push(change);
        continue;
      }
      // The task is gone altogether (deleted by an admin): forget it, and ask for a new workflow task.
      this.links.delete(link.taskId);
      const memo = this.running.get(link.workflowId);
      if (!memo) continue;
      const change = new WorkflowChange(now);
      change.ops.push({ op: "workflow.deleteLink", taskId: link.taskId });
      if (link.kind === "activity") memo.activities.delete(link.seq);
      if (memo.record.taskId === link.taskId) memo.record.taskId = undefined;
      this.planner.ensureWorkflowTask(memo, change);
      change.touched.add(memo);
      changes.push(change);
    }
    for (const memo of this.running.values()) {
      if (memo.record.taskId !== undefined || memo.record.lastEventId <= memo.record.seenUpTo) continue;
      const change = new WorkflowChange(now);
      this.planner.ensureWorkflowTask(memo, change);
      changes.push(change);
    }
    for (const change of changes) this.commitDetached("boot repair", change);
  }

  get runningCount(): number {
    return this.running.size;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.waiters.notifyAll();
    await this.timers.stop();
  }

  // ---- producer-facing operations ----------------------------------------------------------

  async start(command: StartWorkflowCommand): Promise<{ record: WorkflowRecord; created: boolean }> {
    const now = this.deps.clock.now();
    const id = command.id ?? this.deps.ids.workflowId(now);
    const existing = this.running.get(id)?.record ?? this.deps.store.readWorkflow(id);
    const change = new WorkflowChange(now);
    if (existing) {
      if (existing.type !== command.type || existing.queue !== command.queue) {
        throw new ConflictError(`workflow id ${id} is already used by a ${existing.type} workflow on queue ${existing.queue}`);
      }
      const ifExists = command.ifExists ?? "reject";
      if (existing.state === "running" || ifExists === "return") return { record: existing, created: false };
      if (ifExists === "reject") {
        throw new ConflictError(`workflow ${id} already ended ${existing.state}; start it with ifExists "new" to run it again, or "return" to get it back`);
      }
      change.ops.push({ op: "workflow.delete", id });
    }
    const memo: WorkflowMemo = {
      record: {
        id,
        type: command.type,
        queue: command.queue,
        state: "running",
        inputJson: command.inputJson,
        resultJson: undefined,
        errorJson: undefined,
        createdAt: now,
        closedAt: undefined,
        lastEventId: 0,
        seenUpTo: 0,
        randomSeed: Math.floor(Math.random() * 0x7fffffff),
        stickyTimeoutMs: command.stickyTimeoutMs ?? this.deps.defaultStickyTimeoutMs,
        stickyWorker: undefined,
        taskId: undefined,
        taskFailures: 0,
        lastTaskErrorJson: undefined,
        blockedOnJson: undefined,
      },
      activities: new Map(),
      sessions: new Map(),
      timers: new Map(),
    };
    this.running.set(id, memo);
    change.appendEvent(memo, { kind: "workflow.started", type: command.type, queue: command.queue, input: parsedJson(command.inputJson), randomSeed: memo.record.randomSeed });
    this.planner.ensureWorkflowTask(memo, change);
    await this.commitChange("workflow start", change);
    this.tally.started++;
    return { record: memo.record, created: true };
  }

  async signal(id: string, name: string, payloadJson: string | undefined): Promise<number> {
    const memo = this.runningOrExplain(id);
    const change = new WorkflowChange(this.deps.clock.now());
    const eventId = change.appendEvent(memo, { kind: "signal.received", name, payload: parsedJson(payloadJson) });
    this.planner.ensureWorkflowTask(memo, change);
    await this.commitChange("signal", change);
    return eventId;
  }

  async cancel(id: string, reason: string | undefined): Promise<WorkflowRecord> {
    const memo = this.runningOrExplain(id);
    const change = new WorkflowChange(this.deps.clock.now());
    this.planner.close(memo, change, { kind: "workflow.canceled", ...(reason === undefined ? {} : { reason }) }, "canceled");
    await this.commitChange("workflow cancel", change);
    return memo.record;
  }

  /** Reads an execution: the live one, else the stored one. */
  read(id: string): WorkflowRecord | undefined {
    return this.running.get(id)?.record ?? this.deps.store.readWorkflow(id);
  }

  /** The outstanding parts of a running execution (undefined once closed). */
  outstanding(id: string): { activities: WorkflowLink[]; sessions: WorkflowSession[]; timers: { seq: number; fireAt: number }[] } | undefined {
    const memo = this.running.get(id);
    if (!memo) return undefined;
    return {
      activities: [...memo.activities.values()].sort((a, b) => a.seq - b.seq),
      sessions: [...memo.sessions.values()].sort((a, b) => a.seq - b.seq),
      timers: [...memo.timers].map(([seq, fireAt]) => ({ seq, fireAt })).sort((a, b) => a.seq - b.seq),
    };
  }

  /** Waits until the execution closes or `waitMs` passes. */
  async waitClosed(id: string, waitMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.running.has(id) || this.stopping) return;
    await this.waiters.wait(id, waitMs, signal);
  }

  /** Retention: deletes executions closed before `before`, at most `limit`; returns how many. */
  async purgeClosedBefore(before: number, limit: number): Promise<number> {
    const ids = this.deps.store.listWorkflowsClosedBefore(before, limit);
    if (ids.length > 0) await this.deps.commit("workflow retention", ids.map((id) => ({ op: "workflow.delete", id })));
    return ids.length;
  }

  // ---- worker-facing: workflow task answers --------------------------------------------------

  /**
   * Records a workflow task's commands, settling the task in the same commit. Commands are
   * checked before anything changes, so a bad one is a 400 and the task stays running.
   */
  async completeWorkflowTask(workflowId: string, answer: WorkflowTaskAnswer, settle: SettleWithChange): Promise<WorkflowRecord> {
    const memo = this.running.get(workflowId);
    const link = this.links.get(answer.taskId);
    if (!link || link.workflowId !== workflowId || link.kind !== "workflowTask") {
      const record = this.read(workflowId);
      if (!record) throw new NotFoundError(`workflow ${workflowId} not found`);
      // A repeat of an answer that was recorded (its reply was lost): the same answer again.
      const task = this.deps.core.getLive(answer.taskId) ? undefined : this.deps.store.readTask(answer.taskId);
      if (task?.state === "completed" && task.leaseToken === answer.leaseToken && task.type === this.deps.naming.workflowTaskType(record.type)) return record;
      throw new ConflictError(`task ${answer.taskId} is not the current workflow task of workflow ${workflowId} (it is ${record.state})`);
    }
    if (!memo) throw new ConflictError(`workflow ${workflowId} is closed`);
    if (answer.seenUpTo > memo.record.lastEventId) {
      throw new InvalidArgumentError(`seenUpTo ${answer.seenUpTo} is past the last event (${memo.record.lastEventId})`);
    }
    const activityOptions = this.planner.checkCommands(memo, answer.commands);
    await settle(answer.taskId, answer.leaseToken, (after) => {
      const change = new WorkflowChange(this.deps.clock.now());
      this.links.delete(answer.taskId);
      change.ops.push({ op: "workflow.deleteLink", taskId: answer.taskId });
      this.planner.recordAnswer(memo, change, answer, after.worker, activityOptions);
      return change;
    });
    return memo.record;
  }

  // ---- hooks called by the daemon -------------------------------------------------------------

  /** A task reached a final state: if it serves an execution, the change that records it. */
  onTaskEnded(task: TaskRecord, now: number): WorkflowChange | undefined {
    return this.planner.taskEnded(task, now);
  }

  /** A task was leased to a worker: a session holder opens its session. */
  onDispatched(task: LiveTask, now: number): WorkflowChange | undefined {
    return this.planner.dispatched(task, now);
  }

  /** Applies a committed change: new tasks become dispatchable, cancels apply, timers arm. */
  applied(change: WorkflowChange): void {
    if (change.newTasks.length > 0) this.deps.addTasks(change.newTasks);
    for (const { task, after } of change.cancels) this.deps.applyCancel(task, after);
    for (const timer of change.timers) this.timers.push(timer.at, { workflowId: timer.workflowId, seq: timer.seq });
    if (change.mode) this.taskModes[change.mode]++;
    for (const id of change.closed) {
      this.running.delete(id);
      this.tally.closed++;
      this.waiters.notify(id);
    }
    for (const saved of change.saved) this.deps.events.emit("workflow.changed", saved);
  }

  /** Undoes what planning a change did in memory after its commit failed. */
  aborted(change: WorkflowChange): void {
    for (const { task } of change.cancels) this.deps.applyCancel(task, undefined);
    const touched = new Set(change.ops.flatMap((op) => (op.op === "workflow.save" ? [op.workflow.id] : op.op === "workflow.appendEvent" ? [op.event.workflowId] : [])));
    for (const id of touched) this.reload(id);
  }

  // ---- internals -------------------------------------------------------------------------------

  private runningOrExplain(id: string): WorkflowMemo {
    const memo = this.running.get(id);
    if (memo) return memo;
    const record = this.deps.store.readWorkflow(id);
    if (!record) throw new NotFoundError(`workflow ${id} not found`);
    throw new ConflictError(`workflow ${id} is already ${record.state}`);
  }

  private async commitChange(operation: string, change: WorkflowChange): Promise<void> {
    try {
      await this.deps.commit(operation, change.finish());
    } catch (error) {
      this.aborted(change);
      throw error;
    }
    this.applied(change);
  }

  /**
   * Commits a change nobody waits for (one caused by a dispatch or a timeout). If it fails, the
   * task change before it may have been written without it: the execution is reloaded, and the
   * lost event is logged (the next event of the execution asks for a workflow task again).
   */
  commitDetached(operation: string, change: WorkflowChange): void {
    this.commitChange(operation, change).catch((error: unknown) => {
      this.deps.log.error("a workflow change could not be committed", { operation, error: String(error) });
    });
  }

  /** Re-reads an execution after a failed commit left memory ahead of the store. */
  private reload(id: string): void {
    const record = this.deps.store.readWorkflow(id);
    if (!record || record.state !== "running") {
      this.running.delete(id);
      return;
    }
    const memo = this.running.get(id);
    if (memo) memo.record = record;
    else this.running.set(id, { record, activities: new Map(), sessions: new Map(), timers: new Map() });
  }

  // ---- workflow timers ----------------------------------------------------------------------

  private async fireDue(now: number): Promise<void> {
    const change = new WorkflowChange(now);
    for (let entry = this.timers.popDue(now); entry; entry = this.timers.popDue(now)) {
      const { workflowId, seq } = entry.key;
      const memo = this.running.get(workflowId);
      if (!memo || memo.timers.get(seq) !== entry.at) continue;
      memo.timers.delete(seq);
      change.ops.push({ op: "workflow.deleteTimer", workflowId, seq });
      change.appendEvent(memo, { kind: "timer.fired", seq });
      this.planner.ensureWorkflowTask(memo, change);
    }
    if (change.isEmpty) return;
    try {
      await this.commitChange("timer", change);
    } catch (error) {
      this.deps.log.error("workflow timers could not be committed; they fire again after a restart", { error: String(error) });
    }
  }

}
