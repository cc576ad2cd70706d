/**
 * Planning workflow changes in memory: what a workflow task's commands, a task's end and a
 * holder's dispatch do to a running execution (events, new tasks, cancels, timers), written
 * into a WorkflowChange for the engine to commit. No I/O: the caller commits and applies.
 */
import {
  InvalidArgumentError,
  isFinalState,
  recordOfLiveTask,
  resolveTaskOptions,
  type DispatchCore,
  type LiveTask,
  type TaskOptions,
  type TaskOptionsInput,
  type TaskRecord,
  type WorkflowLink,
  type WorkflowSession,
} from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { IdSource } from "./task-ids.ts";
import { errorOfTask, parsedJson, WorkflowChange, type WorkflowMemo } from "./workflow-change.ts";

/** Naming rules from the wire contract (the daemon does not import it; see WORKFLOW_NAMING). */
export interface WorkflowNaming {
  workflowTaskType(workflowType: string): string;
  sessionTaskType: string;
  workerQueueName(base: string, worker: string): string;
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

export interface WorkflowPlannerDeps {
  core: DispatchCore;
  ids: IdSource;
  naming: WorkflowNaming;
  log: Logger;
}

export const WORKFLOW_TASK_TIMEOUT_MS = 10_000;
const WORKFLOW_TASK_BACKOFF_MS = { initial: 1_000, max: 10_000 } as const;
const SESSION_DEFAULTS = { creationTimeoutMs: 60_000, heartbeatTimeoutMs: 20_000, lifetimeMs: 365 * 86_400_000 } as const;
const DEFAULT_PRIORITY = 3;

export class WorkflowPlanner {
  /** Running executions by id. */
  readonly running = new Map<string, WorkflowMemo>();
  /** Live tasks that serve a running execution. */
  readonly links = new Map<string, WorkflowLink>();
  /** Workflow tasks that failed or timed out since start. */
  taskFailures = 0;

  constructor(private readonly deps: WorkflowPlannerDeps) {}

  /** Validates an answer's commands before anything changes; returns each activity's resolved options. */
  checkCommands(memo: WorkflowMemo, commands: readonly WorkflowCommandInput[]) {
    const options = new Map<number, TaskOptions>();
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

  recordAnswer(memo: WorkflowMemo, change: WorkflowChange, answer: WorkflowTaskAnswer, worker: string | undefined, activityOptions: Map<number, TaskOptions>): void {
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

  private applyCommand(memo: WorkflowMemo, change: WorkflowChange, command: WorkflowCommandInput, activityOptions: Map<number, TaskOptions>): void {
    const { record } = memo;
    const now = change.now;
    switch (command.kind) {
      case "scheduleActivity": {
        const session = command.session === undefined ? undefined : memo.sessions.get(command.session);
        const queue = session ? (session.workerQueue ?? session.queue) : (command.queue ?? record.queue);
        const task = this.deps.core.createTask(
          { ...this.newTaskKey(now), queue, type: command.type, inputJson: command.inputJson, priority: command.priority ?? DEFAULT_PRIORITY, options: activityOptions.get(command.seq)! },
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
            ...this.newTaskKey(now),
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
        this.close(memo, change, { kind: "workflow.completed", result: parsedJson(command.resultJson) }, "completed");
        return;
      case "failWorkflow":
        record.errorJson = JSON.stringify(command.error);
        this.close(memo, change, { kind: "workflow.failed", error: command.error }, "failed");
        return;
    }
  }

  /** Closes an execution: its event, its outstanding tasks canceled, its timers dropped. */
  close(memo: WorkflowMemo, change: WorkflowChange, event: { kind: string } & Record<string, unknown>, state: "completed" | "failed" | "canceled"): void {
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
    this.taskFailures++;
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
  unlinkAndCancel(change: WorkflowChange, taskId: string): void {
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

  /** A new task's place in line and the minted id that carries it. */
  private newTaskKey(now: number): { id: string; seq: number } {
    const seq = this.deps.core.reserveSeq();
    return { id: this.deps.ids.taskId(now, seq), seq };
  }

  /** Asks for a workflow task unless one is outstanding. */
  ensureWorkflowTask(memo: WorkflowMemo, change: WorkflowChange): void {
    const { record } = memo;
    if (record.taskId !== undefined || record.state !== "running") return;
    const now = change.now;
    const sticky = record.stickyWorker;
    const backoff = record.taskFailures === 0 ? 0 : Math.min(WORKFLOW_TASK_BACKOFF_MS.initial * 2 ** (record.taskFailures - 1), WORKFLOW_TASK_BACKOFF_MS.max);
    const task = this.deps.core.createTask(
      {
        ...this.newTaskKey(now),
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

  /** A task reached a final state: if it serves an execution, the change that records it. */
  taskEnded(task: TaskRecord, now: number): WorkflowChange | undefined {
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
        if (task.state === "completed") change.appendEvent(memo, { kind: "activity.completed", seq: link.seq, result: parsedJson(task.resultJson) });
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
  dispatched(task: LiveTask, now: number): WorkflowChange | undefined {
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
}
