/**
 * The running server: the pure core, the store, the clock and the waiting requests, in the
 * fixed order of every mutation: core plans, the store commits (fsync), core applies, then
 * the caller is answered. Boot order is fixed too: open store, load live tasks, rebuild core.
 */
import type { Clock } from "../clock/clock.ts";
import {
  ConflictError,
  DispatchCore,
  isFinalState,
  NotFoundError,
  recordOfLiveTask,
  UnavailableError,
  type Assignment,
  type FinalTaskState,
  type LiveTask,
  type QueueCounts,
  type TaskRecord,
} from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { StoreOp, TaskStore } from "../store/index.ts";
import { DaemonEvents } from "./daemon-events.ts";
import { planEnqueue, type EnqueueCommand, type EnqueueOutcome } from "./enqueue-plan.ts";
import { randomIds, type IdSource } from "./task-ids.ts";
import { PollWaiters, TaskWaiters } from "./waiters.ts";

export interface DaemonDeps {
  store: TaskStore;
  clock: Clock;
  log: Logger;
  ids?: IdSource;
}

export interface PollCommand {
  queue: string;
  types: readonly string[];
  max: number;
  waitMs: number;
  identity: string;
}

/** How long the timer loop sleeps when no deadline is pending. */
const IDLE_TICK_MS = 60_000;

export class Daemon {
  readonly events = new DaemonEvents();
  private readonly core: DispatchCore;
  private readonly polls: PollWaiters;
  private readonly taskWaiters: TaskWaiters;
  private readonly ids: IdSource;
  /** Inserts committed but not yet applied, by task id: a concurrent enqueue of the same id waits on them. */
  private readonly pendingInserts = new Map<string, Promise<unknown>>();
  private stopping = false;
  private timerWake = new AbortController();
  private timerSleepUntil = Infinity;
  private timerLoop: Promise<void> = Promise.resolve();

  private constructor(private readonly deps: DaemonDeps) {
    this.ids = deps.ids ?? randomIds;
    this.core = new DispatchCore({ newLeaseToken: () => this.ids.leaseToken() });
    this.polls = new PollWaiters(deps.clock);
    this.taskWaiters = new TaskWaiters(deps.clock);
  }

  /** Loads live tasks from the store, rebuilds the core and starts the timer loop. */
  static async start(deps: DaemonDeps): Promise<Daemon> {
    const daemon = new Daemon(deps);
    const snapshot = await deps.store.loadLive();
    daemon.core.restore(snapshot.live, snapshot.finalCounts, snapshot.maxSeq, deps.clock.now());
    daemon.timerLoop = daemon.runTimers();
    deps.log.info("store loaded", { liveTasks: snapshot.live.length });
    return daemon;
  }

  get accepting(): boolean {
    return !this.stopping;
  }

  /** Enqueues tasks in one commit. Ids already known return the existing task (`created: false`). */
  async enqueue(queue: string, commands: readonly EnqueueCommand[]): Promise<EnqueueOutcome[]> {
    this.assertAccepting();
    const ids = commands.map((command) => command.id).filter((id): id is string => id !== undefined);
    const inFlight = ids.map((id) => this.pendingInserts.get(id)).filter((p) => p !== undefined);
    if (inFlight.length > 0) await Promise.allSettled(inFlight);
    const now = this.deps.clock.now();
    const plan = planEnqueue(queue, commands, {
      now,
      core: this.core,
      readFinal: (id) => this.deps.store.readTask(id),
      newTaskId: () => this.ids.taskId(now),
    });
    if (plan.newTasks.length === 0) return plan.outcomes;
    const committed = this.deps.store.commit(plan.newTasks.map((task) => ({ op: "tasks.insert", task: recordOfLiveTask(task) }) as StoreOp));
    for (const task of plan.newTasks) this.pendingInserts.set(task.id, committed);
    try {
      await committed;
    } catch (error) {
      throw this.storeFailure("enqueue", error);
    } finally {
      for (const task of plan.newTasks) this.pendingInserts.delete(task.id);
    }
    this.deliver(this.core.addTasks(plan.newTasks, this.deps.clock.now()));
    for (const task of plan.newTasks) this.events.emit("task.enqueued", { id: task.id, queue });
    return plan.outcomes;
  }

  /** Leases up to `max` tasks; parks the poll up to `waitMs` when none is ready. */
  async poll(command: PollCommand, signal?: AbortSignal): Promise<LiveTask[]> {
    this.assertAccepting();
    const now = this.deps.clock.now();
    const ready = this.core.takeForPoll(command, now);
    if (ready.length > 0 || command.waitMs === 0) {
      this.recordDispatch(ready);
      return ready;
    }
    const pollerId = this.core.park(command, now);
    this.events.emit("poll.parked", { queue: command.queue, identity: command.identity });
    const tasks = await this.polls.wait(pollerId, command.waitMs, () => this.core.unpark(pollerId), signal);
    if (signal?.aborted && tasks.length > 0) {
      // The client left while its tasks were being leased: give them back, attempt uncounted.
      this.deliver(this.core.release(tasks, this.deps.clock.now()));
      return [];
    }
    return tasks;
  }

  /** Completes a running task; repeating a completion with the same lease token is harmless. */
  complete(id: string, leaseToken: string, resultJson: string | undefined): Promise<TaskRecord> {
    return this.settle(id, leaseToken, "completed", { resultJson, errorJson: undefined });
  }

  /** Fails a running task; repeating a failure with the same lease token is harmless. */
  fail(id: string, leaseToken: string, errorJson: string): Promise<TaskRecord> {
    return this.settle(id, leaseToken, "failed", { resultJson: undefined, errorJson });
  }

  /** Extends a lease and stores heartbeat details durably. */
  async heartbeat(id: string, leaseToken: string, detailsJson: string | undefined): Promise<{ leaseDeadline: number }> {
    this.assertAccepting();
    const task = this.liveOrExplain(id);
    const deadline = this.core.planHeartbeat(task, leaseToken, this.deps.clock.now());
    try {
      await this.deps.store.commit([{ op: "tasks.recordHeartbeat", id, heartbeatJson: detailsJson, leaseDeadline: deadline }]);
    } catch (error) {
      throw this.storeFailure("heartbeat", error);
    }
    this.core.applyHeartbeat(task, leaseToken, deadline, detailsJson);
    if (task.lease?.token !== leaseToken) throw new ConflictError(`lease of task ${id} expired before the heartbeat was applied`);
    return { leaseDeadline: task.lease.deadline };
  }

  /** Reads a task; with `waitMs`, waits until it is final or the time is up. */
  async getTask(id: string, waitMs = 0, signal?: AbortSignal): Promise<TaskRecord> {
    const record = this.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    if (waitMs <= 0 || isFinalState(record.state) || this.stopping) return record;
    await this.taskWaiters.wait(id, waitMs, signal);
    return this.readTask(id) ?? record;
  }

  queueCounts(): QueueCounts[] {
    return this.core.queueCounts();
  }

  pollersWaiting(): number {
    return this.polls.size;
  }

  storeStats() {
    return this.deps.store.stats();
  }

  /** Stops: refuses new work, answers parked polls empty, commits what is staged, closes the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.core.unparkAll();
    this.polls.releaseAll();
    this.taskWaiters.notifyAll();
    this.timerWake.abort();
    await this.timerLoop;
    await this.deps.store.close();
  }

  private async settle(
    id: string,
    leaseToken: string,
    outcome: FinalTaskState,
    payload: { resultJson: string | undefined; errorJson: string | undefined },
  ): Promise<TaskRecord> {
    this.assertAccepting();
    const task = this.core.getLive(id);
    if (!task) return this.settledBefore(id, leaseToken, outcome);
    this.core.beginSettle(task, leaseToken);
    const lease = task.lease!;
    const finishedAt = this.deps.clock.now();
    const record: TaskRecord = { ...recordOfLiveTask(task), state: outcome, ...payload, leaseDeadline: undefined, finishedAt };
    try {
      await this.deps.store.commit([
        { op: "tasks.markFinished", id, state: outcome, attempt: task.attempt, leaseToken, worker: lease.worker, startedAt: lease.startedAt, ...payload, finishedAt },
      ]);
    } catch (error) {
      this.core.abortSettle(task);
      this.rearmTimers();
      throw this.storeFailure(outcome === "completed" ? "complete" : "fail", error);
    }
    this.core.finishSettle(task, outcome);
    this.taskWaiters.notify(id);
    this.events.emit("task.finished", { id, queue: task.queue, state: outcome });
    return record;
  }

  /** A settle for a task no longer live: idempotent repeat, conflict, or unknown task. */
  private settledBefore(id: string, leaseToken: string, outcome: FinalTaskState): TaskRecord {
    const record = this.deps.store.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    if (record.state === outcome && record.leaseToken === leaseToken) return record;
    throw new ConflictError(`task ${id} is already ${record.state}`);
  }

  private liveOrExplain(id: string): LiveTask {
    const task = this.core.getLive(id);
    if (task) return task;
    const record = this.deps.store.readTask(id);
    if (!record) throw new NotFoundError(`task ${id} not found`);
    throw new ConflictError(`task ${id} is already ${record.state}`);
  }

  private readTask(id: string): TaskRecord | undefined {
    const live = this.core.getLive(id);
    return live ? recordOfLiveTask(live) : this.deps.store.readTask(id);
  }

  /** Answers parked polls with the tasks the core assigned them. */
  private deliver(assignments: readonly Assignment[]): void {
    for (const { pollerId, tasks } of assignments) {
      this.recordDispatch(tasks);
      if (!this.polls.deliver(pollerId, tasks)) this.core.release(tasks, this.deps.clock.now());
    }
  }

  /**
   * Stages dispatch records without waiting for them: a poll reply need not be durable,
   * because a task whose dispatch was lost is simply dispatchable again after a restart.
   */
  private recordDispatch(tasks: readonly LiveTask[]): void {
    if (tasks.length === 0) return;
    const ops: StoreOp[] = [];
    for (const task of tasks) {
      const lease = task.lease!;
      ops.push({ op: "tasks.markDispatched", id: task.id, attempt: task.attempt, leaseToken: lease.token, leaseDeadline: lease.deadline, worker: lease.worker, startedAt: lease.startedAt });
      this.events.emit("task.dispatched", { id: task.id, queue: task.queue, attempt: task.attempt, worker: lease.worker });
    }
    this.deps.store.stage(ops);
    this.rearmTimers();
  }

  /** The timer loop: applies due deadlines, then sleeps until the next one. */
  private async runTimers(): Promise<void> {
    while (!this.stopping) {
      const now = this.deps.clock.now();
      const { expired, assignments } = this.core.tick(now);
      if (expired.length > 0) {
        this.deps.store.stage(expired.map((task) => ({ op: "tasks.markPending", id: task.id, attempt: task.attempt }) as StoreOp));
        for (const task of expired) this.events.emit("lease.expired", { id: task.id, queue: task.queue, attempt: task.attempt });
      }
      this.deliver(assignments);
      const next = this.core.nextDeadline();
      const waitMs = next === undefined ? IDLE_TICK_MS : Math.max(0, next - now);
      this.timerWake = new AbortController();
      this.timerSleepUntil = now + waitMs;
      await this.deps.clock.sleep(waitMs, this.timerWake.signal);
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

  private assertAccepting(): void {
    if (this.stopping) throw new UnavailableError("the server is shutting down");
  }

  private storeFailure(operation: string, error: unknown): UnavailableError {
    this.deps.log.error("store commit failed", { operation, error: String(error) });
    return new UnavailableError(`the store could not commit the ${operation}; nothing was changed, try again`);
  }
}
