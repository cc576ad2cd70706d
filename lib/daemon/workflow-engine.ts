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
 */
import type { Clock } from "../clock/clock.ts";
import {
  ConflictError,
  DeadlineHeap,
  InvalidArgumentError,
  isFinalState,
  NotFoundError,
  recordOfLiveTask,
  resolveTaskOptions,
  type DispatchCore,
  type LiveTask,
  type TaskOptionsInput,
  type TaskRecord,
  type WorkflowLink,
  type WorkflowRecord,
  type WorkflowSession,
} from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { StoreOp, TaskStore } from "../store/index.ts";
import type { DaemonEvents } from "./daemon-events.ts";
import type { IfExists } from "./enqueue-plan.ts";
import type { IdSource } from "./task-ids.ts";
import { TaskWaiters } from "./waiters.ts";
import { WorkflowChange, type WorkflowMemo } from "./workflow-change.ts";

/** Naming rules from the wire contract (the daemon does not import it; see WORKFLOW_NAMING). */
export interface WorkflowNaming {
  workflowTaskType(workflowType: string): string;
  sessionTaskType: string;
  workerQueueName(base: string, worker: string): string;
}

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

export type WorkflowCommandInput =
  | { kind: "scheduleActivity"; seq: number; type: string; inputJson: string | undefined; session?: number | undefined; queue?: string | undefined; priority?: number | undefined; options: TaskOptionsInput }
  | { kind: "startTimer"; seq: number; durationMs: number }
  | { kind: "createSession"; seq: number; queue: string; creationTimeoutMs?: number | undefined; heartbeatTimeoutMs?: number | undefined }
  | { kind: "completeSession"; seq: number }
  | { kind: "completeWorkflow"; resultJson: string | undefined }
  | { kind: "failWorkflow"; error: { type: string; message: string } };

export interface WorkflowTaskAnswer {
  taskId: string;
  leaseToken: string;
  seenUpTo: number;
  commands: WorkflowCommandInput[];
  mode: "fresh" | "cached" | "replay";
  blockedOn?: string[] | undefined;
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

export const WORKFLOW_TASK_TIMEOUT_MS = 10_000;
const WORKFLOW_TASK_BACKOFF_MS = { initial: 1_000, max: 10_000 } as const;
const SESSION_DEFAULTS = { creationTimeoutMs: 60_000, heartbeatTimeoutMs: 20_000, lifetimeMs: 365 * 86_400_000 } as const;
const IDLE_TIMER_SLEEP_MS = 60_000;
const DEFAULT_PRIORITY = 3;

export class WorkflowEngine {
  private readonly running = new Map<string, WorkflowMemo>();
  /** Live tasks that serve a running execution. */
  private readonly links = new Map<string, WorkflowLink>();
  private readonly timerHeap = new DeadlineHeap<{ workflowId: string; seq: number }>();
  private readonly waiters: TaskWaiters;
  /** Workflow tasks answered, by how the worker produced the commands. */
  readonly taskModes = { fresh: 0, cached: 0, replay: 0 };
  readonly counters = { started: 0, closed: 0, taskFailures: 0 };
  private stopping = false;
  private timerWake = new AbortController();
  private timerSleepUntil = Infinity;
  private timerLoop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: WorkflowEngineDeps) {
    this.waiters = new TaskWaiters(deps.clock);
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
      this.timerHeap.push(timer.fireAt, { workflowId: timer.workflowId, seq: timer.seq });
    }
    this.reconcile();
    this.timerLoop = this.runTimers();
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
      const live = this.deps.core.getLive(link.taskId);
      if (live) {
        if (live.state === "running") {
          const change = this.onDispatched(live, now);
          if (change) changes.push(change);
        }
        continue;
      }
      const record = this.deps.store.readTask(link.taskId);
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
      this.ensureWorkflowTask(memo, change);
      change.touched.add(memo);
      changes.push(change);
    }
    for (const memo of this.running.values()) {
      if (memo.record.taskId !== undefined || memo.record.lastEventId <= memo.record.seenUpTo) continue;
      const change = new WorkflowChange(now);
      this.ensureWorkflowTask(memo, change);
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
    this.timerWake.abort();
    await this.timerLoop;
  }

  // ---- producer-facing operations ----------------------------------------------------------

  async start(command: StartWorkflowCommand): Promise<{ record: WorkflowRecord; created: boolean }> {
    const now = this.deps.clock.now();
    const id = command.id ?? this.deps.ids.taskId(now);
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
    change.appendEvent(memo, { kind: "workflow.started", type: command.type, queue: command.queue, input: parsed(command.inputJson), randomSeed: memo.record.randomSeed });
    this.ensureWorkflowTask(memo, change);
    await this.commitChange("workflow start", change);
    this.counters.started++;
    return { record: memo.record, created: true };
  }

  async signal(id: string, name: string, payloadJson: string | undefined): Promise<number> {
    const memo = this.runningOrExplain(id);
    const change = new WorkflowChange(this.deps.clock.now());
    const eventId = change.appendEvent(memo, { kind: "signal.received", name, payload: parsed(payloadJson) });
    this.ensureWorkflowTask(memo, change);
    await this.commitChange("signal", change);
    return eventId;
  }

  async cancel(id: string, reason: string | undefined): Promise<WorkflowRecord> {
    const memo = this.runningOrExplain(id);
    const change = new WorkflowChange(this.deps.clock.now());
    this.close(memo, change, { kind: "workflow.canceled", ...(reason === undefined ? {} : { reason }) }, "canceled");
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
    const activityOptions = this.checkCommands(memo, answer.commands);
    await settle(answer.taskId, answer.leaseToken, (after) => {
      const change = new WorkflowChange(this.deps.clock.now());
      this.links.delete(answer.taskId);
      change.ops.push({ op: "workflow.deleteLink", taskId: answer.taskId });
      this.recordAnswer(memo, change, answer, after.worker, activityOptions);
      return change;
    });
    return memo.record;
  }

  // ---- hooks called by the daemon -------------------------------------------------------------

  /** A task reached a final state: if it serves an execution, the change that records it. */
  onTaskEnded(task: TaskRecord, now: number): WorkflowChange | undefined {
    const link = this.links.get(task.id);
    if (!link) return undefined;
    const change = new WorkflowChange(now);
    this.links.delete(task.id);
    change.ops.push({ op: "workflow.deleteLink", taskId: task.id });
    const memo = this.running.get(link.workflowId);
    if (!memo) return change;
    switch (link.kind) {
      case "workflowTask":
        this.workflowTaskEnded(memo, change, task);
        break;
      case "activity":
        memo.activities.delete(link.seq);
        if (task.state === "completed") change.appendEvent(memo, { kind: "activity.completed", seq: link.seq, result: parsed(task.resultJson) });
        else change.appendEvent(memo, { kind: "activity.failed", seq: link.seq, state: task.state, error: errorOfTask(task) });
        this.ensureWorkflowTask(memo, change);
        break;
      case "session":
        this.sessionEnded(memo, change, link.seq, task);
        break;
    }
    return change;
  }

  /** A task was leased to a worker: a session holder opens its session. */
  onDispatched(task: LiveTask, now: number): WorkflowChange | undefined {
    if (task.type !== this.deps.naming.sessionTaskType) return undefined;
    const link = this.links.get(task.id);
    const memo = link && this.running.get(link.workflowId);
    const session = memo?.sessions.get(link!.seq);
    if (!memo || !session || session.state !== "requested" || task.worker === undefined) return undefined;
    const change = new WorkflowChange(now);
    session.state = "open";
    session.worker = task.worker;
    session.workerQueue = this.deps.naming.workerQueueName(session.queue, task.worker);
    change.ops.push({ op: "workflow.saveSession", session: { ...session } });
    change.appendEvent(memo, { kind: "session.created", seq: session.seq, worker: session.worker, workerQueue: session.workerQueue });
    this.ensureWorkflowTask(memo, change);
    return change;
  }

  /** Applies a committed change: new tasks become dispatchable, cancels apply, timers arm. */
  applied(change: WorkflowChange): void {
    if (change.newTasks.length > 0) this.deps.addTasks(change.newTasks);
    for (const { task, after } of change.cancels) this.deps.applyCancel(task, after);
    for (const timer of change.timers) this.timerHeap.push(timer.at, { workflowId: timer.workflowId, seq: timer.seq });
    if (change.timers.length > 0) this.rearmTimers();
    if (change.mode) this.taskModes[change.mode]++;
    for (const id of change.closed) {
      this.running.delete(id);
      this.counters.closed++;
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

  /** Validates an answer's commands before anything changes; returns each activity's resolved options. */
  private checkCommands(memo: WorkflowMemo, commands: readonly WorkflowCommandInput[]) {
    const options = new Map<number, ReturnType<typeof resolveTaskOptions>>();
    const seqs = new Set<number>();
    for (const command of commands) {
      if (command.kind === "scheduleActivity" || command.kind === "startTimer" || command.kind === "createSession") {
        if (seqs.has(command.seq) || memo.activities.has(command.seq) || memo.timers.has(command.seq) || memo.sessions.has(command.seq)) {
          throw new InvalidArgumentError(`command seq ${command.seq} is already in use`);
        }
        seqs.add(command.seq);
      }
      if (command.kind === "scheduleActivity") options.set(command.seq, resolveTaskOptions(command.options));
    }
    return options;
  }

  private recordAnswer(memo: WorkflowMemo, change: WorkflowChange, answer: WorkflowTaskAnswer, worker: string | undefined, activityOptions: Map<number, ReturnType<typeof resolveTaskOptions>>): void {
    const record = memo.record;
    const sawEverything = answer.seenUpTo >= record.lastEventId;
    record.taskId = undefined;
    record.taskFailures = 0;
    record.lastTaskErrorJson = undefined;
    record.stickyWorker = worker;
    record.blockedOnJson = answer.blockedOn === undefined ? undefined : JSON.stringify(answer.blockedOn);
    change.mode = answer.mode;
    change.appendEvent(memo, { kind: "workflowTask.completed", seenUpTo: answer.seenUpTo, worker: worker ?? "unknown", mode: answer.mode });
    for (const command of answer.commands) {
      if (record.state !== "running") break;
      this.applyCommand(memo, change, command, activityOptions);
    }
    if (record.state === "running" && !sawEverything) this.ensureWorkflowTask(memo, change);
    // Everything up to here is handled by the code, or a new workflow task will handle it.
    record.seenUpTo = sawEverything ? record.lastEventId : answer.seenUpTo;
    change.touched.add(memo);
  }

  private applyCommand(memo: WorkflowMemo, change: WorkflowChange, command: WorkflowCommandInput, activityOptions: Map<number, ReturnType<typeof resolveTaskOptions>>): void {
    const { record } = memo;
    const now = change.now;
    switch (command.kind) {
      case "scheduleActivity": {
        const session = command.session === undefined ? undefined : memo.sessions.get(command.session);
        const queue = session ? (session.workerQueue ?? session.queue) : (command.queue ?? record.queue);
        const task = this.deps.core.createTask(
          { id: this.deps.ids.taskId(now), queue, type: command.type, inputJson: command.inputJson, priority: command.priority ?? DEFAULT_PRIORITY, options: activityOptions.get(command.seq)! },
          now,
        );
        change.appendEvent(memo, { kind: "activity.scheduled", seq: command.seq, type: command.type, queue, taskId: task.id, ...(command.session === undefined ? {} : { session: command.session }) });
        if (command.session !== undefined && session?.state !== "open") {
          // The code asked for an activity in a session that is not open: it fails at once.
          change.appendEvent(memo, { kind: "activity.failed", seq: command.seq, state: "canceled", error: { type: "SessionFailed", message: `session seq ${command.session} is not open` } });
          this.ensureWorkflowTask(memo, change);
          return;
        }
        const link: WorkflowLink = { taskId: task.id, workflowId: record.id, kind: "activity", seq: command.seq, session: command.session, type: command.type };
        this.addLinkedTask(change, task, link);
        memo.activities.set(command.seq, link);
        return;
      }
      case "startTimer": {
        const fireAt = now + command.durationMs;
        memo.timers.set(command.seq, fireAt);
        change.ops.push({ op: "workflow.insertTimer", timer: { workflowId: record.id, seq: command.seq, fireAt } });
        change.timers.push({ workflowId: record.id, seq: command.seq, at: fireAt });
        change.appendEvent(memo, { kind: "timer.started", seq: command.seq, durationMs: command.durationMs, fireAt: new Date(fireAt).toISOString() });
        return;
      }
      case "createSession": {
        const task = this.deps.core.createTask(
          {
            id: this.deps.ids.taskId(now),
            queue: command.queue,
            type: this.deps.naming.sessionTaskType,
            inputJson: JSON.stringify({ workflowId: record.id, seq: command.seq, queue: command.queue }),
            priority: DEFAULT_PRIORITY,
            options: resolveTaskOptions({
              scheduleToStartMs: command.creationTimeoutMs ?? SESSION_DEFAULTS.creationTimeoutMs,
              startToCloseMs: SESSION_DEFAULTS.lifetimeMs,
              heartbeatMs: command.heartbeatTimeoutMs ?? SESSION_DEFAULTS.heartbeatTimeoutMs,
              retry: { maxAttempts: 1 },
            }),
          },
          now,
        );
        const session: WorkflowSession = { workflowId: record.id, seq: command.seq, queue: command.queue, taskId: task.id, state: "requested", worker: undefined, workerQueue: undefined };
        memo.sessions.set(command.seq, session);
        change.ops.push({ op: "workflow.saveSession", session: { ...session } });
        this.addLinkedTask(change, task, { taskId: task.id, workflowId: record.id, kind: "session", seq: command.seq, session: undefined, type: this.deps.naming.sessionTaskType });
        change.appendEvent(memo, { kind: "session.requested", seq: command.seq, queue: command.queue, taskId: task.id });
        return;
      }
      case "completeSession": {
        const session = memo.sessions.get(command.seq);
        change.appendEvent(memo, { kind: "session.completed", seq: command.seq });
        if (!session || (session.state !== "requested" && session.state !== "open")) return;
        session.state = "completed";
        change.ops.push({ op: "workflow.saveSession", session: { ...session } });
        this.unlinkAndCancel(change, session.taskId);
        return;
      }
      case "completeWorkflow":
        record.resultJson = command.resultJson;
        this.close(memo, change, { kind: "workflow.completed", result: parsed(command.resultJson) }, "completed");
        return;
      case "failWorkflow":
        record.errorJson = JSON.stringify(command.error);
        this.close(memo, change, { kind: "workflow.failed", error: command.error }, "failed");
        return;
    }
  }

  /** Closes an execution: its event, its outstanding tasks canceled, its timers dropped. */
  private close(memo: WorkflowMemo, change: WorkflowChange, event: { kind: string } & Record<string, unknown>, state: "completed" | "failed" | "canceled"): void {
    const { record } = memo;
    change.appendEvent(memo, event);
    record.state = state;
    record.closedAt = change.now;
    record.blockedOnJson = undefined;
    for (const link of memo.activities.values()) this.unlinkAndCancel(change, link.taskId);
    for (const session of memo.sessions.values()) {
      if (session.state === "requested" || session.state === "open") this.unlinkAndCancel(change, session.taskId);
    }
    if (record.taskId !== undefined) this.unlinkAndCancel(change, record.taskId);
    record.taskId = undefined;
    for (const seq of memo.timers.keys()) change.ops.push({ op: "workflow.deleteTimer", workflowId: record.id, seq });
    memo.timers.clear();
    memo.activities.clear();
    change.closed.push(record.id);
  }

  private workflowTaskEnded(memo: WorkflowMemo, change: WorkflowChange, task: TaskRecord): void {
    const { record } = memo;
    if (record.taskId !== task.id) return;
    record.taskId = undefined;
    // Completed here means through the plain task route, without commands: treated as a failure.
    record.taskFailures++;
    record.lastTaskErrorJson =
      task.state === "completed" ? JSON.stringify({ type: "InvalidWorkflowTaskAnswer", message: "the workflow task was completed without commands" }) : JSON.stringify(errorOfTask(task));
    // The worker may be gone: the retry goes to the workflow's queue, where any worker replays.
    record.stickyWorker = undefined;
    this.counters.taskFailures++;
    change.touched.add(memo);
    this.ensureWorkflowTask(memo, change);
  }

  private sessionEnded(memo: WorkflowMemo, change: WorkflowChange, seq: number, task: TaskRecord): void {
    const session = memo.sessions.get(seq);
    if (!session || session.state === "completed" || session.state === "failed") return;
    const wasOpen = session.state === "open";
    session.state = "failed";
    change.ops.push({ op: "workflow.saveSession", session: { ...session } });
    const message = !wasOpen
      ? `no worker of queue ${session.queue} took the session in time (every worker's --max-sessions slots were busy, or none polled)`
      : task.state === "timed_out"
        ? `the session's worker ${session.worker ?? ""} stopped heartbeating`
        : `the session's worker ${session.worker ?? ""} ended it (${task.state})`;
    change.appendEvent(memo, { kind: "session.failed", seq, error: { type: "SessionFailed", message } });
    for (const link of [...memo.activities.values()]) {
      if (link.session !== seq) continue;
      memo.activities.delete(link.seq);
      this.unlinkAndCancel(change, link.taskId);
    }
    this.ensureWorkflowTask(memo, change);
  }

  /** Drops a task's link (its end is no longer an event) and cancels it if it is still live. */
  private unlinkAndCancel(change: WorkflowChange, taskId: string): void {
    if (this.links.delete(taskId)) change.ops.push({ op: "workflow.deleteLink", taskId });
    const live = this.deps.core.getLive(taskId);
    if (!live || live.gone || live.settling || live.cancelRequested || isFinalState(live.state)) return;
    try {
      const after = this.deps.core.planCancel(live, change.now);
      change.ops.push({ op: "tasks.saveState", task: after });
      change.cancels.push({ task: live, after });
    } catch (error) {
      this.deps.log.warn("could not cancel a workflow's task", { taskId, error: String(error) });
    }
  }

  private addLinkedTask(change: WorkflowChange, task: LiveTask, link: WorkflowLink): void {
    this.links.set(task.id, link);
    change.ops.push({ op: "tasks.insert", task: recordOfLiveTask(task) });
    change.ops.push({ op: "workflow.insertLink", link });
    change.newTasks.push(task);
  }

  /** Asks for a workflow task unless one is outstanding. */
  private ensureWorkflowTask(memo: WorkflowMemo, change: WorkflowChange): void {
    const { record } = memo;
    if (record.taskId !== undefined || record.state !== "running") return;
    const now = change.now;
    const sticky = record.stickyWorker;
    const backoff = record.taskFailures === 0 ? 0 : Math.min(WORKFLOW_TASK_BACKOFF_MS.initial * 2 ** (record.taskFailures - 1), WORKFLOW_TASK_BACKOFF_MS.max);
    const task = this.deps.core.createTask(
      {
        id: this.deps.ids.taskId(now),
        queue: sticky === undefined ? record.queue : this.deps.naming.workerQueueName(record.queue, sticky),
        type: this.deps.naming.workflowTaskType(record.type),
        inputJson: JSON.stringify({ workflowId: record.id, workflowType: record.type }),
        priority: DEFAULT_PRIORITY,
        fallbackQueue: sticky === undefined ? undefined : record.queue,
        fallbackAt: sticky === undefined ? undefined : now + record.stickyTimeoutMs,
        options: resolveTaskOptions({ startToCloseMs: WORKFLOW_TASK_TIMEOUT_MS, retry: { maxAttempts: 1 } }),
        runAt: backoff > 0 ? now + backoff : undefined,
      },
      now,
    );
    record.taskId = task.id;
    change.touched.add(memo);
    this.addLinkedTask(change, task, { taskId: task.id, workflowId: record.id, kind: "workflowTask", seq: 0, session: undefined, type: task.type });
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

  private async runTimers(): Promise<void> {
    while (!this.stopping) {
      const now = this.deps.clock.now();
      await this.fireDue(now);
      const next = this.timerHeap.peekAt();
      const waitMs = next === undefined ? IDLE_TIMER_SLEEP_MS : Math.max(0, next - now);
      this.timerWake = new AbortController();
      this.timerSleepUntil = now + waitMs;
      await this.deps.clock.sleep(waitMs, this.timerWake.signal);
    }
  }

  private async fireDue(now: number): Promise<void> {
    const change = new WorkflowChange(now);
    for (let entry = this.timerHeap.popDue(now); entry; entry = this.timerHeap.popDue(now)) {
      const { workflowId, seq } = entry.key;
      const memo = this.running.get(workflowId);
      if (!memo || memo.timers.get(seq) !== entry.at) continue;
      memo.timers.delete(seq);
      change.ops.push({ op: "workflow.deleteTimer", workflowId, seq });
      change.appendEvent(memo, { kind: "timer.fired", seq });
      this.ensureWorkflowTask(memo, change);
    }
    if (change.isEmpty) return;
    try {
      await this.commitChange("timer", change);
    } catch (error) {
      this.deps.log.error("workflow timers could not be committed; they fire again after a restart", { error: String(error) });
    }
  }

  private rearmTimers(): void {
    const next = this.timerHeap.peekAt();
    if (next !== undefined && next < this.timerSleepUntil) {
      this.timerSleepUntil = next;
      this.timerWake.abort();
    }
  }
}

function parsed(json: string | undefined): unknown {
  return json === undefined ? undefined : JSON.parse(json);
}

function errorOfTask(task: TaskRecord): { type: string; message: string } {
  if (task.errorJson !== undefined) {
    const error = JSON.parse(task.errorJson) as { type?: string; message?: string };
    return { type: error.type ?? task.state, message: error.message ?? task.state };
  }
  return { type: task.state, message: `the task ended ${task.state}` };
}
