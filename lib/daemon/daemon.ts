/**
 * The running server: the pure core, the store, the clock and the waiting requests, in the
 * fixed order of every mutation: core plans, the store commits (fsync), core applies, then
 * the caller is answered. Boot order is fixed too: open store, load live tasks, rebuild core.
 */
import type { Clock } from "../clock/clock.ts";
import {
  ConflictError,
  DEFAULT_START_TO_CLOSE_MS,
  DispatchCore,
  finalAttemptOf,
  isFinalState,
  NotFoundError,
  recordOfLiveTask,
  UnavailableError,
  type Assignment,
  type AttemptRecord,
  type Effects,
  type LiveTask,
  type QueueCounts,
  type SettleOutcome,
  type SettlePlan,
  type TaskFailure,
  type StoredWorkflowEvent,
  type TaskRecord,
  type WorkflowRecord,
} from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { StoreOp, TaskStore, WorkflowListFilter } from "../store/index.ts";
import { AdminLock } from "./admin-lock.ts";
import { CollectAfterEnds } from "./collect-after-ends.ts";
import { DaemonEvents } from "./daemon-events.ts";
import { DeadLetters, type RetentionSettings } from "./dead-letters.ts";
import { planEnqueue, type EnqueueCommand, type EnqueueOutcome, type PlanContext } from "./enqueue-plan.ts";
import { QueueAdmin } from "./queue-admin.ts";
import { TrafficRouter } from "./traffic-router.ts";
import { mintedIds, type IdSource } from "./task-ids.ts";
import { PollWaiters, TaskWaiters } from "./waiters.ts";
import type { WorkflowChange } from "./workflow-change.ts";
import { WorkflowEngine, type StartWorkflowCommand, type WorkflowNaming, type WorkflowTaskAnswer } from "./workflow-engine.ts";
import { describeWorkflow, explainWorkflow, type WorkflowDescription, type WorkflowExplanation } from "./workflow-views.ts";

export interface DaemonDeps {
  store: TaskStore;
  clock: Clock;
  log: Logger;
  ids?: IdSource;
  retention?: Partial<RetentionSettings>;
  /** Lease length of an attempt when the producer names no timeout (default 5 min). */
  defaultStartToCloseMs?: number;
  /** Asks the runtime for a full garbage collection: after many queues or tasks left memory. */
  collectGarbage?: () => void;
  /** Task types and queue names of workflows (the wire contract's WORKFLOW_NAMING). */
  naming: WorkflowNaming;
  /** How long a workflow task waits for the worker that ran the previous one (default 5 s). */
  stickyTimeoutMs?: number;
  /** Characters of input pending tasks keep in memory; the rest are read at dispatch (default 4 Mi). */
  pendingInputChars?: number;
  /** Live tasks kept in memory in all; beyond, new plain pending tasks wait in the store (default 20,000; see lib/core/cold-tail.ts). */
  hotTasks?: number;
  /** Pending tasks each ready line may keep in memory whatever the budget (default 1,024). */
  hotTasksPerLine?: number;
}

export interface PollCommand {
  queue: string;
  types: readonly string[];
  max: number;
  waitMs: number;
  identity: string;
  host?: string | undefined;
  /** A queue rate the worker declares, tasks per second. */
  queueRate?: number | undefined;
  /** See PollRequestPlan.yieldTo (lib/core/dispatch-core.ts). */
  yieldTo?: readonly string[] | undefined;
}

/** A task with its attempt history (ended attempts, then the running one). */
export interface TaskDetails {
  record: TaskRecord;
  attempts: (AttemptRecord | (Omit<AttemptRecord, "endedAt" | "outcome" | "errorJson"> & { outcome: "running" }))[];
}

/** One attempt's outcome for `settleMany`: a completion with its result, or a failure. */
export type SettleCommand =
  | { id: string; leaseToken: string; resultJson: string | undefined }
  | { id: string; leaseToken: string; failure: TaskFailure };

/** Each command's own answer: the task after the settle, or why this one was refused. */
export type SettleResult = { record: TaskRecord } | { error: unknown };

/** Each item's own answer to `release`: whether this call gave the task back, or why it was refused. */
export type ReleaseResult = { released: boolean } | { error: unknown };

/** A planned settle waiting for its commit. */
interface PreparedSettle {
  task: LiveTask;
  plan: SettlePlan;
  change: WorkflowChange | undefined;
  ops: StoreOp[];
}

/** How long the timer loop sleeps when no deadline is pending. */
const IDLE_TICK_MS = 60_000;
/** How often idle queues and dead pollers are dropped from memory. */
const SWEEP_EVERY_MS = 5_000;
/** Queues that must leave memory between two sweeps before the daemon asks for a GC. */
const GC_AFTER_DROPPED_QUEUES = 10_000;
const DEFAULT_STICKY_TIMEOUT_MS = 5_000;

export class Daemon {
  readonly events = new DaemonEvents();
  readonly deadLetters: DeadLetters;
  readonly queues: QueueAdmin;
  readonly router: TrafficRouter;
  readonly workflows: WorkflowEngine;
  private readonly core: DispatchCore;
  private readonly polls: PollWaiters;
  private readonly taskWaiters: TaskWaiters;
  private readonly ids: IdSource;
  private readonly adminLock = new AdminLock();
  /** Inserts being committed, by task id: a concurrent enqueue of the same id waits on them. */
  private readonly pendingInserts = new Map<string, Promise<unknown>>();
  private readonly planContext: PlanContext;
  private stopping = false;
  private readonly collector: CollectAfterEnds;
  private timerWake = new AbortController();
  private timerSleepUntil = Infinity;
  private timerLoop: Promise<void> = Promise.resolve();
  private sweepLoop: Promise<void> = Promise.resolve();
  private readonly stopSweep = new AbortController();

  private constructor(private readonly deps: DaemonDeps) {
    this.ids = deps.ids ?? mintedIds;
    this.core = new DispatchCore({
      newLeaseToken: () => this.ids.leaseToken(),
      pendingInputChars: deps.pendingInputChars,
      coldTasks: deps.store,
      hotTasks: deps.hotTasks,
      hotTasksPerLine: deps.hotTasksPerLine,
    });
    this.polls = new PollWaiters(deps.clock);
    this.taskWaiters = new TaskWaiters(deps.clock);
    this.collector = new CollectAfterEnds(deps.collectGarbage, (run) => setImmediate(run));
    this.deadLetters = new DeadLetters({
      core: this.core,
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      lock: this.adminLock,
      retention: deps.retention,
      isStopping: () => this.stopping,
      onRevived: (assignments) => this.deliver(assignments),
      purgeClosedWorkflows: (before, limit) => this.workflows.purgeClosedBefore(before, limit),
    });
    this.queues = new QueueAdmin({
      core: this.core,
      store: deps.store,
      clock: deps.clock,
      deliver: (assignments) => this.deliver(assignments),
      commit: (operation, ops) => this.commitOrFail(operation, ops),
    });
    this.workflows = new WorkflowEngine({
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      ids: this.ids,
      core: this.core,
      naming: deps.naming,
      events: this.events,
      defaultStickyTimeoutMs: deps.stickyTimeoutMs ?? DEFAULT_STICKY_TIMEOUT_MS,
      commit: (operation, ops) => this.commitOrFail(operation, ops),
      addTasks: (tasks) => {
        this.deliver(this.core.addTasks(tasks, this.deps.clock.now()));
        this.rearmTimers();
      },
      applyCancel: (task, after) => {
        this.core.applyCancel(task, after);
        if (after && isFinalState(after.state)) this.finished(task);
      },
    });
    this.router = new TrafficRouter({
      core: this.core,
      store: deps.store,
      clock: deps.clock,
      lastPolled: (queue) => this.queues.lastPolledAt(queue),
      commit: (operation, ops) => this.commitOrFail(operation, ops),
    });
    this.planContext = {
      core: this.core,
      readStored: (ids) => this.deps.store.readTasks(ids),
      newTaskId: (now, seq) => this.ids.taskId(now, seq),
      defaultStartToCloseMs: deps.defaultStartToCloseMs ?? DEFAULT_START_TO_CLOSE_MS,
      route: (source, task) => this.router.route(source, task),
    };
  }

  /** Loads live tasks from the store, rebuilds the core and starts the timer loops. */
  static async start(deps: DaemonDeps): Promise<Daemon> {
    const daemon = new Daemon(deps);
    const snapshot = await deps.store.loadLive();
    const now = deps.clock.now();
    daemon.core.restore(snapshot.live, new Map(snapshot.queues.map((queue) => [queue.name, queue.settings])), snapshot.maxSeq, now);
    daemon.queues.restore(snapshot.queues, now);
    daemon.router.restore(snapshot.routes);
    daemon.workflows.restore();
    daemon.timerLoop = daemon.runTimers();
    daemon.sweepLoop = daemon.runSweeps();
    daemon.deadLetters.startRetention();
    deps.log.info("store loaded", { liveTasks: daemon.core.liveTaskCount + daemon.core.coldTaskCount, inStoreOnly: daemon.core.coldTaskCount });
    return daemon;
  }

  get accepting(): boolean {
    return !this.stopping;
  }

  /** Enqueues tasks in one commit. Ids already known follow `ifExists` (see enqueue-plan.ts). */
  async enqueue(queue: string, commands: readonly EnqueueCommand[]): Promise<EnqueueOutcome[]> {
    this.assertAccepting();
    // One pass, no closures: this runs for every enqueue request.
    let inFlight: Promise<unknown>[] | undefined;
    let replacesFinal = false;
    for (const command of commands) {
      if (command.id === undefined) continue;
      const pending = this.pendingInserts.get(command.id);
      if (pending) (inFlight ??= []).push(pending);
      if (command.ifExists === "new") replacesFinal = true;
    }
    if (inFlight) await Promise.allSettled(inFlight);
    // Replacing a final task must not race a dead-letter requeue or a purge of the same row.
    if (replacesFinal) return this.adminLock.run(() => this.enqueueNow(queue, commands));
    return this.enqueueNow(queue, commands);
  }

  private async enqueueNow(queue: string, commands: readonly EnqueueCommand[]): Promise<EnqueueOutcome[]> {
    const now = this.deps.clock.now();
    const plan = planEnqueue(queue, commands, now, this.planContext);
    if (plan.newTasks.length === 0) return plan.outcomes;
    const ops: StoreOp[] = [];
    for (const old of plan.replaced) ops.push({ op: "tasks.delete", id: old.id, seq: old.seq });
    // A new task stands for its own record: nothing can change it before addTasks below. Its
    // copy (30 fields a task) cost a fresh daemon's batches 2-21 % of their CPU (bench/NOTES.md).
    for (const task of plan.newTasks) ops.push({ op: "tasks.insert", task });
    const committed = this.deps.store.commit(ops);
    // Only a producer's id can be enqueued again while its insert commits: nobody knows a
    // minted id before the answer. (A batch of 1,000 minted ids spent about 0.5 ms of its 7-10
    // growing and emptying this map.)
    const { named } = plan;
    if (named) for (const id of named.keys()) this.pendingInserts.set(id, committed);
    try {
      await committed;
    } catch (error) {
      throw this.storeFailure("enqueue", error);
    } finally {
      if (named) for (const id of named.keys()) this.pendingInserts.delete(id);
    }
    this.deliver(this.core.addTasks(plan.newTasks, this.deps.clock.now(), undefined, true));
    this.rearmTimers();
    if (this.events.listening("task.enqueued")) for (const task of plan.newTasks) this.events.emit("task.enqueued", { id: task.id, queue });
    return plan.outcomes;
  }

  /**
   * The typo guard's note for an enqueue to `queue` (no worker polled it in the last hour), if
   * any. It is about the queue, not a task: a batch's answer carries it once.
   */
  typoWarning(queue: string): string | undefined {
    return this.queues.warningFor(queue, this.deps.clock.now());
  }

  /** Leases up to `max` tasks; parks the poll up to `waitMs` when none is ready. */
  async poll(command: PollCommand, signal?: AbortSignal): Promise<LiveTask[]> {
    this.assertAccepting();
    const now = this.deps.clock.now();
    const plan = { ...command, declaredRate: command.queueRate };
    this.queues.notePoll(command.queue, now);
    const ready = this.core.takeForPoll(plan, now);
    // Sent before its worker left, arrived after: answered now, and the worker stays gone.
    const departed = this.polls.departedJustNow(command.queue, command.identity, now);
    if (departed) this.queues.leave(command.queue, command.identity);
    // A poll that yields to queues where a task for it is ready already: its worker's turn
    // there comes first (see DispatchCore.readyOnAny).
    const yields = command.yieldTo !== undefined && ready.length === 0 && this.core.readyOnAny(command.yieldTo, command.types, now);
    if (ready.length > 0 || command.waitMs === 0 || departed || yields) {
      this.recordDispatch(ready);
      return ready;
    }
    const pollerId = this.core.park(plan, now);
    this.rearmTimers();
    this.events.emit("poll.parked", { queue: command.queue, identity: command.identity });
    const tasks = await this.polls.wait(pollerId, command.waitMs, () => this.core.unpark(pollerId, this.deps.clock.now()), signal);
    if (signal?.aborted && tasks.length > 0) {
      // The client left while its tasks were being leased: give them back, attempt uncounted.
      this.giveBack(tasks);
      return [];
    }
    return tasks;
  }

  /**
   * A worker stopped polling `queue`: its polls parked there are answered empty at once, its
   * poll still on the way does not park (see waiters.ts), and describe drops it.
   */
  leave(queue: string, identity: string): boolean {
    const parked = this.core.peekQueue(queue)?.parked.values() ?? [];
    const pollerIds = [...parked].filter((poller) => poller.identity === identity).map((poller) => poller.id);
    this.polls.leave(queue, identity, pollerIds, this.deps.clock.now());
    return this.queues.leave(queue, identity);
  }

  /**
   * Gives back leased tasks their worker will not run (`POST /v1/tasks/release`), each answered
   * alone: `released: true` when it was running under that lease token and is pending again,
   * `false` when it is not (released before, expired, settled: nothing changes, so a repeat is
   * harmless). A session holder or a task with a cancellation requested is refused (409): its
   * worker reports the attempt instead, so the session ends or the cancel completes. Answered
   * once the tasks given back are pending on disk: a stopping worker exits right after the
   * answer, and a daemon killed then must not find them leased for a whole lease.
   */
  async release(items: readonly { id: string; leaseToken: string }[]): Promise<ReleaseResult[]> {
    this.assertAccepting();
    const tasks = items.map(({ id }) => this.core.getLive(id));
    const answers = items.map(({ id, leaseToken }, index): ReleaseResult | "held" => {
      const task = tasks[index];
      if (!task) return this.deps.store.readTask(id) ? { released: false } : { error: new NotFoundError(`task ${id} not found`) };
      if (task.state !== "running" || task.lease?.token !== leaseToken) return { released: false };
      if (task.type === this.deps.naming.sessionTaskType) return { error: new ConflictError(`task ${id} holds a session: fail it to end the session`) };
      if (task.cancelRequested) return { error: new ConflictError(`cancellation of task ${id} was requested: report the attempt instead`) };
      return "held";
    });
    const { given, written } = this.takeBack(tasks.filter((task, index): task is LiveTask => answers[index] === "held"), (ops) => this.deps.store.commit(ops));
    await written;
    const givenSet = new Set(given);
    return answers.map((answer, index) => (answer === "held" ? { released: givenSet.has(tasks[index]!) } : answer));
  }

  /** Completes a running task; repeating a completion with the same lease token is harmless. */
  complete(id: string, leaseToken: string, resultJson: string | undefined): Promise<TaskRecord> {
    return this.settle(id, leaseToken, { kind: "completed", resultJson });
  }

  /** Fails an attempt: retried after a backoff, or final, per the task's retry policy. */
  fail(id: string, leaseToken: string, failure: { type: string; message: string; nonRetryable?: boolean | undefined }): Promise<TaskRecord> {
    return this.settle(id, leaseToken, { kind: "failed", failure, errorJson: JSON.stringify(failure) });
  }

  startWorkflow(command: StartWorkflowCommand) {
    this.assertAccepting();
    return this.workflows.start(command);
  }

  listWorkflows(filter: WorkflowListFilter) {
    return this.deps.store.listWorkflows(filter);
  }

  /** Describes an execution; with `waitMs`, first waits until it is closed or the time is up. */
  async describeWorkflow(id: string, waitMs = 0, signal?: AbortSignal): Promise<WorkflowDescription> {
    if (waitMs > 0) await this.workflows.waitClosed(id, waitMs, signal);
    return describeWorkflow(this.workflows, (taskId) => this.readTask(taskId), (workflowId) => this.deps.store.readWorkflowSessions(workflowId), id);
  }

  explainWorkflow(id: string): WorkflowExplanation {
    return explainWorkflow(this.workflows, (taskId) => this.explain(taskId), id);
  }

  /** Events after `after`, ascending. */
  workflowHistory(id: string, after: number, limit: number): { record: WorkflowRecord; events: StoredWorkflowEvent[] } {
    const record = this.workflows.read(id);
    if (!record) throw new NotFoundError(`workflow ${id} not found`);
    return { record, events: this.deps.store.readWorkflowEvents(id, after, limit) };
  }

  /** Records a workflow task's commands and settles it, in one commit (see workflow-engine.ts). */
  answerWorkflowTask(workflowId: string, answer: WorkflowTaskAnswer) {
    this.assertAccepting();
    return this.workflows.completeWorkflowTask(workflowId, answer, (taskId, leaseToken, extend) =>
      this.settle(taskId, leaseToken, { kind: "completed", resultJson: undefined }, extend),
    );
  }

  /** Stores heartbeat details durably and, with a heartbeat timeout, extends the lease. */
  async heartbeat(id: string, leaseToken: string, detailsJson: string | undefined): Promise<{ leaseDeadline: number; cancelRequested: boolean }> {
    this.assertAccepting();
    const task = this.liveOrExplain(id);
    const deadline = this.core.planHeartbeat(task, leaseToken, this.deps.clock.now());
    await this.commitOrFail("heartbeat", [{ op: "tasks.recordHeartbeat", id, seq: task.seq, heartbeatJson: detailsJson, leaseDeadline: deadline }]);
    this.core.applyHeartbeat(task, leaseToken, deadline, detailsJson);
    if (task.lease?.token !== leaseToken) throw new ConflictError(`lease of task ${id} ended before the heartbeat was applied`);
    this.rearmTimers();
    return { leaseDeadline: task.lease.deadline, cancelRequested: task.cancelRequested };
  }

  /** Cancels a task: at once unless it is running, then when its worker reports. */
  async cancel(id: string): Promise<{ record: TaskRecord; cancelRequested: boolean }> {
    this.assertAccepting();
    const task = this.liveOrExplain(id);
    const now = this.deps.clock.now();
    const after = this.core.planCancel(task, now);
    const change = isFinalState(after.state) ? this.workflows.onTaskEnded(after, now) : undefined;
    try {
      await this.commitOrFail("cancel", [{ op: "tasks.saveState", task: after }, ...(change?.finish() ?? [])]);
    } catch (error) {
      this.core.applyCancel(task, undefined);
      if (change) this.workflows.aborted(change);
      throw error;
    }
    const finishedMeanwhile = task.gone;
    this.core.applyCancel(task, after);
    if (change) this.workflows.applied(change);
    if (finishedMeanwhile) throw new ConflictError(`task ${id} finished while it was being canceled`);
    this.rearmTimers();
    if (isFinalState(after.state)) this.finished(task);
    return { record: after, cancelRequested: after.state === "running" };
  }

  /** Reads a task and its attempts; with `waitMs`, waits until it is final or the time is up. */
  async getTask(id: string, waitMs = 0, signal?: AbortSignal): Promise<TaskDetails> {
    let record = this.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    if (waitMs > 0 && !isFinalState(record.state) && !this.stopping) {
      await this.taskWaiters.wait(id, waitMs, signal);
      record = this.readTask(id) ?? record;
    }
    const stored = this.deps.store.readAttempts(id);
    const last = finalAttemptOf(record, stored);
    const attempts: TaskDetails["attempts"] = last ? [...stored, last] : stored;
    if (record.state === "running" && record.worker !== undefined && record.startedAt !== undefined) {
      attempts.push({ taskId: id, attempt: record.attempt, worker: record.worker, startedAt: record.startedAt, outcome: "running" });
    }
    return { record, attempts };
  }

  /** Live counts of the queues in memory (the full listing with final counts is `queues.list`). */
  queueCounts(): QueueCounts[] {
    return this.core.queueCounts();
  }

  /** What a task that is not running waits for. */
  explain(id: string): { record: TaskRecord; reason: string; message: string; until?: number } {
    const record = this.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    return { record, ...this.queues.explain(record) };
  }

  /** Numbers for /metrics. */
  metrics() {
    return {
      queues: this.core.queueStates(),
      scheduleToStartSeconds: this.core.scheduleToStartSeconds,
      store: this.deps.store.stats(),
      pollersWaiting: this.polls.size,
      queuesInMemory: this.core.queueCount,
      liveTasks: this.core.liveTaskCount + this.core.coldTaskCount,
      tasksInStoreOnly: this.core.coldTaskCount,
      workflows: { running: this.workflows.runningCount, ...this.workflows.counters, taskModes: { ...this.workflows.taskModes } },
    };
  }

  pollersWaiting(): number {
    return this.polls.size;
  }

  /** Task reads (`waitMs`) waiting for their task to end. */
  taskWaiting(): number {
    return this.taskWaiters.size;
  }

  storeStats() {
    return this.deps.store.stats();
  }

  /** Stops: refuses new work, answers parked polls empty, commits what is staged, closes the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSweep.abort();
    await this.sweepLoop;
    this.core.unparkAll(this.deps.clock.now());
    this.polls.releaseAll();
    this.taskWaiters.notifyAll();
    this.timerWake.abort();
    await this.timerLoop;
    await this.deadLetters.stopRetention();
    await this.workflows.stop();
    await this.adminLock.run(async () => {});
    await this.deps.store.close();
  }

  /**
   * Settles an attempt. A final task that serves a workflow records its end in the workflow's
   * history in the same commit; `extend` replaces that with a change of the caller's (a
   * workflow task's commands).
   */
  private async settle(id: string, leaseToken: string, outcome: SettleOutcome, extend?: (after: TaskRecord) => WorkflowChange): Promise<TaskRecord> {
    this.assertAccepting();
    const prepared = this.prepareSettle(id, leaseToken, outcome, this.deps.clock.now(), extend);
    if (!("task" in prepared)) return prepared.record;
    try {
      await this.deps.store.commit(prepared.ops);
    } catch (error) {
      throw this.abortSettles([prepared], error);
    }
    const after = this.applySettled(prepared);
    this.rearmTimers();
    return after;
  }

  /**
   * Settles several attempts in one commit (`POST /v1/tasks/complete`). Each item gets its own
   * answer: a stale lease or an unknown task fails only that item; a failed commit fails every
   * item that was in it. `patient`: the caller is not blocked on the answer (a worker on the
   * stream, whose slots are free once the outcomes are sent), so the commit may be paced.
   */
  async settleMany(commands: readonly SettleCommand[], options?: { patient?: boolean }): Promise<SettleResult[]> {
    this.assertAccepting();
    const now = this.deps.clock.now();
    const results: SettleResult[] = new Array(commands.length);
    const staged: { index: number; settle: PreparedSettle }[] = [];
    commands.forEach((command, index) => {
      const outcome: SettleOutcome =
        "failure" in command ? { kind: "failed", failure: command.failure, errorJson: JSON.stringify(command.failure) } : { kind: "completed", resultJson: command.resultJson };
      try {
        const prepared = this.prepareSettle(command.id, command.leaseToken, outcome, now);
        if ("task" in prepared) staged.push({ index, settle: prepared });
        else results[index] = prepared;
      } catch (error) {
        results[index] = { error };
      }
    });
    if (staged.length === 0) return results;
    try {
      await this.deps.store.commit(staged.flatMap(({ settle }) => settle.ops), options);
    } catch (error) {
      const failure = this.abortSettles(staged.map(({ settle }) => settle), error);
      for (const { index } of staged) results[index] = { error: failure };
      return results;
    }
    for (const { index, settle } of staged) results[index] = { record: this.applySettled(settle) };
    this.rearmTimers();
    return results;
  }

  /**
   * Plans a settle and the ops that persist it. A final task that serves a workflow records its
   * end in the workflow's history in the same commit; `extend` replaces that with a change of
   * the caller's (a workflow task's commands). A task no longer live answers from the store.
   */
  private prepareSettle(
    id: string,
    leaseToken: string,
    outcome: SettleOutcome,
    now: number,
    extend?: (after: TaskRecord) => WorkflowChange,
  ): PreparedSettle | { record: TaskRecord } {
    const task = this.core.getLive(id);
    if (!task) return { record: this.settledBefore(id, leaseToken, outcome.kind) };
    const plan = this.core.planSettle(task, leaseToken, outcome, now);
    let change: WorkflowChange | undefined;
    try {
      change = extend ? extend(plan.after) : isFinalState(plan.after.state) ? this.workflows.onTaskEnded(plan.after, now) : undefined;
      // A final attempt lives on the task row (see finalAttemptOf); only a retried one is kept apart.
      const ops: StoreOp[] = [{ op: "tasks.saveState", task: plan.after }];
      if (plan.attempt) ops.push({ op: "attempts.insert", attempt: plan.attempt });
      if (change) ops.push(...change.finish());
      return { task, plan, change, ops };
    } catch (error) {
      this.core.abortSettle(task);
      if (change) this.workflows.aborted(change);
      throw error;
    }
  }

  /** Undoes planned settles whose commit failed; returns the error to answer with. */
  private abortSettles(settles: readonly PreparedSettle[], error: unknown): UnavailableError {
    for (const { task, change } of settles) {
      this.core.abortSettle(task);
      if (change) this.workflows.aborted(change);
    }
    this.rearmTimers();
    return this.storeFailure("settle", error);
  }

  /** Applies a committed settle to the core and wakes whoever waits for the task. */
  private applySettled({ task, plan, change }: PreparedSettle): TaskRecord {
    this.core.applySettle(task, plan);
    if (change) this.workflows.applied(change);
    if (isFinalState(plan.after.state)) this.finished(task);
    return plan.after;
  }

  /** A settle for a task no longer live: an idempotent repeat, a conflict, or an unknown task. */
  private settledBefore(id: string, leaseToken: string, kind: SettleOutcome["kind"]): TaskRecord {
    const record = this.deps.store.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    const sameEnd = kind === "completed" ? record.state === "completed" || record.state === "canceled" : record.state !== "completed";
    if (isFinalState(record.state) && record.leaseToken === leaseToken && sameEnd) return record;
    throw new ConflictError(`task ${id} is already ${record.state}`);
  }

  /** A live task by id (one that waits in the store only is read in); throws for a final or unknown one. */
  private liveOrExplain(id: string): LiveTask {
    const task = this.core.getLive(id);
    if (task) return task;
    const record = this.deps.store.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    const cold = this.core.faultIn(record);
    if (cold) return cold;
    throw new ConflictError(`task ${id} is already ${record.state}`);
  }

  private readTask(id: string): TaskRecord | undefined {
    const live = this.core.getLive(id);
    if (!live) return this.deps.store.readTask(id);
    const record = recordOfLiveTask(live);
    record.inputJson ??= this.deps.store.readInput(id, live.seq);
    return record;
  }

  /** Wakes the waiters of a task that reached a final state. */
  private finished(task: LiveTask): void {
    this.collector.taskEnded(this.core.liveTaskCount);
    this.taskWaiters.notify(task.id);
    if (this.events.listening("task.finished")) this.events.emit("task.finished", { id: task.id, queue: task.queue, state: task.state as never });
  }

  /** Answers parked polls with the tasks the core assigned them. */
  private deliver(assignments: readonly Assignment[]): void {
    for (const { pollerId, tasks } of assignments) {
      this.recordDispatch(tasks);
      if (!this.polls.deliver(pollerId, tasks)) this.giveBack(tasks);
    }
  }

  /**
   * Gives leased tasks back: pending again at the front of their queues, the attempt uncounted
   * (a task settling, or no longer running, is left as it is). Staged like the dispatch record
   * it undoes, so a restart finds them pending. Returns the tasks given back.
   */
  private giveBack(tasks: readonly LiveTask[]): LiveTask[] {
    return this.takeBack(tasks, (ops) => this.deps.store.stage(ops)).given;
  }

  /** `giveBack` with the writes handed to `write` (staged, or committed for `release`). */
  private takeBack<W>(tasks: readonly LiveTask[], write: (ops: StoreOp[]) => W): { given: LiveTask[]; written: W | undefined } {
    if (tasks.length === 0) return { given: [], written: undefined };
    const tokens = tasks.map((task) => task.lease?.token);
    const assignments = this.core.release(tasks, this.deps.clock.now());
    // A task given back may be leased again at once (to a parked poll): its token changed too.
    const given = tasks.filter((task, index) => task.lease?.token !== tokens[index]);
    const written = given.length > 0 ? write(given.map((task): StoreOp => ({ op: "tasks.saveState", task: recordOfLiveTask(task) }))) : undefined;
    for (const task of given) this.events.emit("task.released", { id: task.id, queue: task.queue });
    this.deliver(assignments);
    return { given, written };
  }

  /**
   * Stages dispatch records without waiting for them: a poll reply need not be durable,
   * because a task whose dispatch was lost is simply dispatchable again after a restart.
   */
  private recordDispatch(tasks: readonly LiveTask[]): void {
    if (tasks.length === 0) return;
    const ops: StoreOp[] = [];
    const changes: WorkflowChange[] = [];
    const now = this.deps.clock.now();
    for (const task of tasks) {
      // A pending task's input waits in the store (see LiveTask.inputJson); the lease holds it.
      task.inputJson ??= this.deps.store.readInput(task.id, task.seq);
      const lease = task.lease!;
      ops.push({ op: "tasks.markDispatched", id: task.id, seq: task.seq, attempt: task.attempt, leaseToken: lease.token, leaseDeadline: lease.deadline, worker: task.worker!, startedAt: task.startedAt! });
      if (task.attempt === 1 && task.routeRuleId !== undefined && task.routedFrom !== undefined && task.queue !== task.routedFrom) {
        this.router.noteStarted(task.routedFrom, task.routeRuleId);
      }
      if (this.events.listening("task.dispatched")) this.events.emit("task.dispatched", { id: task.id, queue: task.queue, attempt: task.attempt, worker: task.worker! });
      const change = this.workflows.onDispatched(task, now);
      if (change) changes.push(change);
    }
    // A lost dispatch record only makes its task pending again after a restart, so it waits
    // for the next awaited commit instead of paying an fsync of its own (see group-commit.ts).
    this.deps.store.stage(ops, { rideAlong: true });
    // Committed after the staged dispatch (group commit is FIFO), and applied only then, so no
    // worker reads a history without the events its workflow task was scheduled for.
    for (const change of changes) this.workflows.commitDetached("session start", change);
    this.rearmTimers();
  }

  /** The timer loop: applies due timers, persists what they changed, sleeps until the next one. */
  private async runTimers(): Promise<void> {
    while (!this.stopping) {
      const now = this.deps.clock.now();
      this.persistTimerEffects(this.core.tick(now));
      const next = this.core.nextDeadline();
      const waitMs = next === undefined ? IDLE_TICK_MS : Math.max(0, next - now);
      this.timerWake = new AbortController();
      this.timerSleepUntil = now + waitMs;
      await this.deps.clock.sleep(waitMs, this.timerWake.signal);
    }
  }

  private persistTimerEffects(effects: Effects): void {
    const changes: WorkflowChange[] = [];
    if (effects.changed.length > 0 || effects.ended.length > 0) {
      const now = this.deps.clock.now();
      const finalIds = new Set(effects.changed.filter((task) => isFinalState(task.state)).map((task) => task.id));
      const ops: StoreOp[] = effects.ended.filter((attempt) => !finalIds.has(attempt.taskId)).map((attempt) => ({ op: "attempts.insert", attempt }));
      for (const task of effects.changed) {
        const record = recordOfLiveTask(task);
        ops.push({ op: "tasks.saveState", task: record });
        const change = finalIds.has(task.id) ? this.workflows.onTaskEnded(record, now) : undefined;
        if (change) changes.push(change);
      }
      this.deps.store.stage(ops);
    }
    // See recordDispatch: committed after the staged timeouts, applied once durable.
    for (const change of changes) this.workflows.commitDetached("timeout", change);
    for (const attempt of effects.ended) {
      const task = effects.changed.find((t) => t.id === attempt.taskId);
      if (task && attempt.outcome !== "canceled") this.events.emit("lease.expired", { id: task.id, queue: task.queue, attempt: attempt.attempt });
    }
    for (const { task } of effects.fellBack) {
      if (task.routeRuleId !== undefined && task.routedFrom !== undefined) this.router.noteFellBack(task.routedFrom, task.routeRuleId);
    }
    for (const task of effects.changed) if (isFinalState(task.state)) this.finished(task);
    this.deliver(effects.assignments);
  }

  /** Drops idle queues and dead pollers, and old typo-guard entries, now and then. */
  private async runSweeps(): Promise<void> {
    let queuesBefore = this.core.queueCount;
    while (!this.stopping) {
      await this.deps.clock.sleep(SWEEP_EVERY_MS, this.stopSweep.signal);
      if (this.stopping) return;
      const now = this.deps.clock.now();
      this.core.sweepIdle(now);
      this.queues.prune(now);
      // Queues leave memory as their last task ends; after a mass exodus, give the memory back.
      if (queuesBefore - this.core.queueCount >= GC_AFTER_DROPPED_QUEUES) this.deps.collectGarbage?.();
      queuesBefore = this.core.queueCount;
    }
  }

  /** Wakes the timer loop early when a deadline now falls before its planned wake-up. */
  private rearmTimers(): void {
    const next = this.core.nextDeadline();
    if (next !== undefined && next < this.timerSleepUntil) {
      this.timerSleepUntil = next;
      this.timerWake.abort();
    }
  }

  private async commitOrFail(operation: string, ops: StoreOp[]): Promise<void> {
    try {
      await this.deps.store.commit(ops);
    } catch (error) {
      throw this.storeFailure(operation, error);
    }
  }

  private assertAccepting(): void {
    if (this.stopping) throw new UnavailableError("the server is shutting down");
  }

  private storeFailure(operation: string, error: unknown): UnavailableError {
    this.deps.log.error("store commit failed", { operation, error: String(error) });
    return new UnavailableError(`the store could not commit the ${operation}; nothing was changed, try again`);
  }
}
