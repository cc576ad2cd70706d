/**
 * The dispatch engine: live tasks, per-queue ready lines, parked polls and every timer (delays,
 * retry backoffs, leases, schedule-to-start and schedule-to-close deadlines) in one heap.
 * Pure and synchronous: every operation takes `now` (epoch ms); nothing here reads a clock or
 * does I/O. The daemon calls it in the fixed order plan -> commit -> apply (see lib/daemon);
 * timer transitions (`tick`) are applied first and persisted after, since each is recomputed
 * from persisted fields at boot.
 *
 * Matching: a task that becomes ready goes straight to the oldest parked poll that handles its
 * type; polls are served first come, first served, which spreads tasks across workers.
 */
import {
  CANCELED_FAILURE,
  decideAfterFailure,
  leaseDeadline,
  leaseTimeoutFailure,
  SCHEDULE_TO_CLOSE_FAILURE,
  SCHEDULE_TO_START_FAILURE,
} from "./attempt-outcome.ts";
import { Histogram, LATENCY_BOUNDS_S } from "../metrics/histogram.ts";
import { DEFAULT_HOT_TASKS, DEFAULT_HOT_TASKS_PER_LINE, REFILL_CHUNK, REFILL_MIN, type ColdTail, type ColdTaskSource, type LivePlacement } from "./cold-tail.ts";
import { DeadlineHeap } from "./deadline-heap.ts";
import { ConflictError } from "./errors.ts";
import { QueueState, type LiveCounts, type ParkedPoller, type QueueSettings } from "./queue-state.ts";
import type { Refill } from "./ready-lines.ts";
import { LiveTaskIndex } from "./live-task-index.ts";
import type { TaskOptions } from "./task-options.ts";
import {
  isFinalState,
  LiveTask,
  liveTaskOfRecord,
  recordOfLiveTask,
  type AttemptRecord,
  type FinalTaskState,
  type LiveTaskState,
  type TaskFailure,
  type TaskRecord,
  type TaskState,
} from "./task-state.ts";
import { TaskTimers } from "./task-timers.ts";
import type { RateLimit } from "./token-bucket.ts";

export interface DispatchCoreOptions {
  /** Returns an unguessable lease token; injected so the core stays free of runtime APIs. */
  newLeaseToken(): string;
  /** Characters of input that pending tasks keep in memory (default 4 Mi; see `keepOrDropInputs`). */
  pendingInputChars?: number | undefined;
  /**
   * Where the tasks of a deep backlog wait (see cold-tail.ts); without it every live task
   * stays in memory.
   */
  coldTasks?: ColdTaskSource | undefined;
  /** Live tasks kept in memory in all before new plain pending ones wait in the store (default 20,000). */
  hotTasks?: number | undefined;
  /** Pending tasks each ready line may keep in memory whatever the budget (default 1,024, at most `hotTasks`). */
  hotTasksPerLine?: number | undefined;
}

export interface NewTask {
  id: string;
  /** Its place in enqueue order, from `reserveSeq` (a minted id carries it); else the next one. */
  seq?: number | undefined;
  queue: string;
  type: string;
  inputJson: string | undefined;
  priority: number;
  fairnessKey?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  /** Routing: the queue the producer named, when a rule sent the task to `queue`. */
  routedFrom?: string | undefined;
  routeRuleId?: string | undefined;
  fallbackQueue?: string | undefined;
  /** Epoch ms; a task not started by then moves to `fallbackQueue`. */
  fallbackAt?: number | undefined;
  options: TaskOptions;
  /** Epoch ms before which the task must not be dispatched. */
  runAt?: number | undefined;
}

/** The live tasks a boot restores: where each belongs, and its whole row on demand. */
export interface LiveTasksAtBoot {
  /** In enqueue order; read from the store while iterated (iterate once). */
  placements: Iterable<LivePlacement>;
  /** A live task's whole row, input left out; called while `placements` is iterated. */
  readLive(seq: number): TaskRecord | undefined;
}

/** Tasks leased to a parked poll, which the daemon must now answer. */
export interface Assignment {
  pollerId: number;
  tasks: LiveTask[];
}

/** What a timer pass changed: tasks to persist (staged), ended attempts, answered polls. */
export interface Effects {
  changed: LiveTask[];
  ended: AttemptRecord[];
  assignments: Assignment[];
  /** Tasks that moved to their fallback queue, with the queue they left. */
  fellBack: { task: LiveTask; from: string }[];
}

export interface PollRequestPlan {
  queue: string;
  types: readonly string[];
  max: number;
  identity: string;
  /** Long-poll time of this poll; a poller stays live for twice that after it. */
  waitMs: number;
  host?: string | undefined;
  /** A queue rate the worker declares (tasks per second). */
  declaredRate?: number | undefined;
  /**
   * The worker's other queues, when the poll holds a slot its polls of them take turns with
   * (fewer slots than queues): while parked, it is answered empty as soon as a task of one of
   * its types is left ready on one of them (see `yieldTo`).
   */
  yieldTo?: readonly string[] | undefined;
}

export type SettleOutcome = { kind: "completed"; resultJson: string | undefined } | { kind: "failed"; failure: TaskFailure; errorJson: string };

/** A planned settle: the task as it will be after the commit, and the record of a retried attempt. */
export interface SettlePlan {
  after: TaskRecord;
  /** Only when the task is retried: a final attempt lives on the task row (see finalAttemptOf). */
  attempt: AttemptRecord | undefined;
}

export interface QueueCounts extends LiveCounts {
  name: string;
  pollersWaiting: number;
}

/** See `keepOrDropInputs`. */
const DEFAULT_PENDING_INPUT_CHARS = 4 * 1024 * 1024;

export class DispatchCore {
  /** Live tasks by id (by the seq a minted id carries: see live-task-index.ts). */
  private readonly tasks = new LiveTaskIndex<LiveTask>();
  private readonly queues = new Map<string, QueueState>();
  private readonly timers = new TaskTimers();
  /** Seconds from pending to dispatch, per attempt (the schedule-to-start latency). */
  readonly scheduleToStartSeconds = new Histogram(LATENCY_BOUNDS_S);
  /** Rate-limited queues with parked polls, by when their next token accrues. */
  private readonly queueWakes = new DeadlineHeap<QueueState>();
  private readonly parkedQueueOf = new Map<number, QueueState>();
  /** Parked polls that yield (see PollRequestPlan.yieldTo): their types and the queues they yield to. */
  private readonly yielders = new Map<number, { types: readonly string[]; to: readonly string[] }>();
  /** The same, by each queue they yield to. */
  private readonly yieldersTo = new Map<string, Set<number>>();
  /** Length of the inputs that pending tasks keep in memory (see `keepOrDropInputs`). */
  private pendingInputChars = 0;
  private readonly maxPendingInputChars: number;
  private nextSeq = 1;
  private nextPollerId = 1;
  /** Live tasks in memory past which a line's new plain pending tasks wait in the store... */
  private readonly hotMax: number;
  /** ...once it holds this many in memory. */
  private readonly lineFloor: number;
  /** Tasks that wait in the store only (see cold-tail.ts). */
  private coldCount = 0;
  private readonly refill: Refill = (tail, inMemory) => this.readColdIn(tail, inMemory);

  constructor(private readonly options: DispatchCoreOptions) {
    this.maxPendingInputChars = options.pendingInputChars ?? DEFAULT_PENDING_INPUT_CHARS;
    this.hotMax = options.coldTasks ? Math.max(1, options.hotTasks ?? DEFAULT_HOT_TASKS) : Infinity;
    this.lineFloor = Math.max(1, Math.min(this.hotMax, options.hotTasksPerLine ?? DEFAULT_HOT_TASKS_PER_LINE));
  }

  /**
   * Rebuilds memory from the store at boot (tasks are streamed: each is read once); timers
   * that fell due while down fire on the first tick. A plain pending task behind a full line
   * is only listed from its placement, so a deep backlog's rows are never read whole here.
   */
  restore(live: LiveTasksAtBoot, settings: ReadonlyMap<string, QueueSettings>, maxSeq: number, now: number): void {
    this.nextSeq = Math.max(this.nextSeq, maxSeq + 1);
    for (const [name, queueSettings] of settings) {
      const queue = this.queueOf(name);
      queue.paused = queueSettings.paused;
      queue.adminLimit = queueSettings.limit;
      for (const [key, setting] of queueSettings.fairness) queue.setFairness(key, setting, now);
      queue.refreshLimit(now);
    }
    for (const placement of live.placements) {
      if (this.hotMax !== Infinity && this.listColdAtBoot(placement)) continue;
      const record = live.readLive(placement.seq);
      if (!record) continue;
      const task = liveTaskOfRecord(record);
      if (task.state === "running" && task.lease === undefined) task.state = "pending";
      if (task.state === "pending") task.readyAt ??= record.createdAt;
      task.inputJson = undefined;
      this.register(task, true);
    }
  }

  /** A live task by id, or undefined when it is final, unknown, or waits in the store only (see `faultIn`). */
  getLive(id: string): LiveTask | undefined {
    return this.tasks.get(id);
  }

  /**
   * Reads a task that waits in the store only back into memory (an operation names it by id),
   * at the back of its line's tasks in memory; `record` is its row. Undefined when the record
   * is not such a task.
   */
  faultIn(record: TaskRecord): LiveTask | undefined {
    if (record.state !== "pending" || this.tasks.has(record.id)) return undefined;
    const queue = this.queues.get(record.queue);
    if (!queue) return undefined;
    const task = pendingTaskOfStored(record);
    if (!queue.ready.readIn(task)) return undefined;
    this.tasks.add(task);
    this.coldCount--;
    return task;
  }

  /** See `restore`: true when the placement's task was listed cold (and counted). */
  private listColdAtBoot(placement: LivePlacement): boolean {
    if (placement.state === "scheduled" || (placement.state === "running" && placement.leased)) return false;
    const queue = this.queueOf(placement.queue);
    // A running task without a lease is pending again (as below for those read whole).
    const pending = placement.state === "pending" ? placement : { ...placement, state: "pending" as const };
    if (!queue.ready.listCold(pending, this.lineRoom())) return false;
    queue.count(placement, "pending", 1);
    this.coldCount++;
    return true;
  }

  /**
   * How many of its pending tasks a line may hold in memory before a new plain one waits in
   * the store: any number while the budget has room, else the floor.
   */
  private lineRoom(): number {
    return this.tasks.size < this.hotMax ? Number.MAX_SAFE_INTEGER : this.lineFloor;
  }

  /** Pending tasks that wait in the store only. */
  get coldTaskCount(): number {
    return this.coldCount;
  }

  /** The next place in enqueue order, for a task about to be created (its minted id carries it). */
  reserveSeq(): number {
    return this.nextSeq++;
  }

  /** Plans a new task: assigns its place in line. It is invisible until `addTasks`. */
  createTask(input: NewTask, now: number): LiveTask {
    const scheduled = input.runAt !== undefined && input.runAt > now;
    const task = new LiveTask({
      id: input.id,
      seq: input.seq ?? this.nextSeq++,
      queue: input.queue,
      type: input.type,
      state: scheduled ? "scheduled" : "pending",
      priority: input.priority,
      fairnessKey: input.fairnessKey,
      options: input.options,
      createdAt: now,
      readyAt: scheduled ? undefined : now,
      inputJson: input.inputJson,
    });
    // Only set when given: each one that is set allocates the task's extras (see live-task.ts).
    if (scheduled) task.runAt = input.runAt;
    if (input.options.scheduleToCloseMs !== undefined) task.closeDeadline = now + input.options.scheduleToCloseMs;
    if (input.headers !== undefined) task.headers = input.headers;
    if (input.routedFrom !== undefined) task.routedFrom = input.routedFrom;
    if (input.routeRuleId !== undefined) task.routeRuleId = input.routeRuleId;
    if (input.fallbackQueue !== undefined) task.fallbackQueue = input.fallbackQueue;
    if (input.fallbackAt !== undefined) task.fallbackAt = input.fallbackAt;
    return task;
  }

  /**
   * Plans the requeue of a dead task: a fresh attempt budget and deadline, pending at once, at
   * the back of its line (a new seq, as a new enqueue would get), so a mass requeue joins a
   * deep backlog's tail and may wait in the store like one (see cold-tail.ts).
   */
  reviveTask(record: TaskRecord, now: number): LiveTask {
    const task = liveTaskOfRecord(record);
    return Object.assign(task, {
      seq: this.reserveSeq(),
      state: "pending" as const,
      budgetStart: record.attempt,
      resultJson: undefined,
      errorJson: undefined,
      runAt: undefined,
      readyAt: now,
      closeDeadline: record.options.scheduleToCloseMs === undefined ? undefined : now + record.options.scheduleToCloseMs,
      cancelRequested: false,
      finishedAt: undefined,
      fallbackAt: undefined,
      lease: undefined,
    });
  }

  /**
   * Makes committed tasks live; returns the parked polls they went to. `previousStates` holds
   * the final state each revived task leaves (for counts).
   */
  addTasks(tasks: readonly LiveTask[], now: number, previousStates?: readonly FinalTaskState[], mayWaitInStore = false): Assignment[] {
    const touched = new Set<QueueState>();
    tasks.forEach((task, i) => {
      const queue = this.register(task, mayWaitInStore);
      if (previousStates?.[i] === undefined) {
        queue.added.add(now);
        queue.enqueuedTotal++;
      }
      touched.add(queue);
    });
    // Before matching: a lease takes a kept input out of the budget, so it must be counted in.
    this.keepOrDropInputs(tasks);
    return this.matchParked(touched, now);
  }

  /**
   * Inputs wait in the store (see LiveTask.inputJson), except within a small budget: a
   * backlog of tens of thousands of small tasks dispatches without a store read per task
   * (about 1 µs each), and a deep one holds at most 4 Mi characters of inputs. A delayed task
   * never keeps its input.
   */
  private keepOrDropInputs(tasks: readonly LiveTask[]): void {
    for (const task of tasks) {
      const input = task.inputJson;
      if (input === undefined || task.state === "running") continue;
      if (task.state === "pending" && this.pendingInputChars + input.length <= this.maxPendingInputChars) this.pendingInputChars += input.length;
      else task.inputJson = undefined;
    }
  }

  /** Clears a task's input, and its share of the budget if it kept one while pending. */
  private dropInput(task: LiveTask): void {
    if (task.inputJson === undefined) return;
    if (task.state === "pending") this.pendingInputChars -= task.inputJson.length;
    task.inputJson = undefined;
  }

  /** Records the poller and leases up to `max` ready tasks to it at once (no parking). */
  takeForPoll(plan: PollRequestPlan, now: number): LiveTask[] {
    const queue = this.queueOf(plan.queue);
    const changed = queue.pollers.seen(
      { identity: plan.identity, host: plan.host, types: plan.types, freeSlots: plan.max, waitMs: plan.waitMs, declaredRate: plan.declaredRate },
      now,
    );
    if (changed) queue.refreshLimit(now);
    if (queue.pending === 0) return [];
    const tasks = this.takeReady(queue, plan.types, plan.max, now);
    for (const task of tasks) this.lease(queue, task, plan.identity, now);
    return tasks;
  }

  /**
   * True when a task of one of `types` may be ready on one of `queues`: a poll that yields to
   * them does not park then (its worker's turn there comes first), just as a parked one would
   * be answered empty if the task came later (see `yieldTo`). A queue with fairness settings
   * is left out: a key's rate limit can hold back a task the check sees, and the worker would
   * be sent round again and again.
   */
  readyOnAny(queues: readonly string[], types: readonly string[], now: number): boolean {
    for (const name of queues) {
      const queue = this.queues.get(name);
      if (queue === undefined || queue.pending === 0 || queue.paused || queue.fairness.size > 0 || queue.tokens(now) < 1) continue;
      if (queue.ready.mayHoldAny(types)) return true;
    }
    return false;
  }

  /** Parks a poll that found nothing; returns its id for `unpark`. */
  park(plan: PollRequestPlan, now: number): number {
    const id = this.nextPollerId++;
    const queue = this.queueOf(plan.queue);
    queue.addParked({ id, queue: plan.queue, types: [...plan.types], max: plan.max, identity: plan.identity, parkedAt: now });
    queue.pollers.parkedChanged(plan.identity, 1, now);
    this.parkedQueueOf.set(id, queue);
    if (plan.yieldTo !== undefined && plan.yieldTo.length > 0) {
      this.yielders.set(id, { types: plan.types, to: plan.yieldTo });
      for (const name of plan.yieldTo) {
        let ids = this.yieldersTo.get(name);
        if (ids === undefined) this.yieldersTo.set(name, (ids = new Set()));
        ids.add(id);
      }
    }
    this.armWake(queue, now);
    return id;
  }

  /** Removes a parked poll (timed out or disconnected). False if it was already answered. */
  unpark(pollerId: number, now: number): boolean {
    const queue = this.parkedQueueOf.get(pollerId);
    if (!queue) return false;
    const poller = queue.parked.get(pollerId);
    this.parkedQueueOf.delete(pollerId);
    queue.removeParked(pollerId);
    if (poller) {
      queue.pollers.parkedChanged(poller.identity, -1, now);
      this.forgetYielder(pollerId);
    }
    return true;
  }

  private forgetYielder(pollerId: number): void {
    const yielder = this.yielders.get(pollerId);
    if (yielder === undefined) return;
    this.yielders.delete(pollerId);
    for (const name of yielder.to) {
      const ids = this.yieldersTo.get(name);
      if (ids?.delete(pollerId) && ids.size === 0) this.yieldersTo.delete(name);
    }
  }

  /** A worker stopped polling the queue: it leaves describe at once. */
  leave(queueName: string, identity: string, now: number): boolean {
    const queue = this.queues.get(queueName);
    if (!queue) return false;
    const left = queue.pollers.leave(identity);
    queue.refreshLimit(now);
    this.dropIfIdle(queue, now);
    return left;
  }

  /** Pauses or resumes dispatch; a resume answers parked polls at once. */
  setPaused(queueName: string, paused: boolean, now: number): Assignment[] {
    const queue = this.queueOf(queueName);
    queue.paused = paused;
    return paused ? [] : this.matchParked(new Set([queue]), now);
  }

  /** Sets or (undefined) clears the admin rate limit. */
  setLimit(queueName: string, limit: RateLimit | undefined, now: number): Assignment[] {
    const queue = this.queueOf(queueName);
    queue.adminLimit = limit;
    queue.refreshLimit(now);
    return this.matchParked(new Set([queue]), now);
  }

  /** Sets a fairness key's weight and rate limit (weight 1 and no rate = the default). */
  setFairness(queueName: string, key: string, weight: number, ratePerSecond: number | undefined, now: number): Assignment[] {
    const queue = this.queueOf(queueName);
    queue.setFairness(key, { weight, ratePerSecond }, now);
    return this.matchParked(new Set([queue]), now);
  }

  /** The settings a queue would persist. */
  settingsOf(queueName: string): QueueSettings | undefined {
    return this.queues.get(queueName)?.settings();
  }

  /** A queue's in-memory state, for describe and explain (undefined when not in memory). */
  peekQueue(queueName: string): QueueState | undefined {
    return this.queues.get(queueName);
  }

  /** Drops queues nothing live refers to (dead pollers are pruned on the way). */
  sweepIdle(now: number): number {
    let dropped = 0;
    for (const queue of [...this.queues.values()]) if (this.dropIfIdle(queue, now)) dropped++;
    return dropped;
  }

  get queueCount(): number {
    return this.queues.size;
  }

  get liveTaskCount(): number {
    return this.tasks.size;
  }

  /** Live tasks (for routing stats: which routed tasks still wait). */
  liveTasks(): IterableIterator<LiveTask> {
    return this.tasks.values();
  }

  /** Every queue in memory (for metrics). */
  queueStates(): readonly QueueState[] {
    return [...this.queues.values()];
  }

  /** Removes every parked poll (shutdown); returns their ids. */
  unparkAll(now: number): number[] {
    const ids = [...this.parkedQueueOf.keys()];
    for (const id of ids) this.unpark(id, now);
    return ids;
  }

  /**
   * Plans a completion or failure: checks the lease, decides the next state, and freezes the
   * task so no timer acts on it while the outcome is committed. Throws ConflictError for a
   * stale token.
   */
  planSettle(task: LiveTask, leaseToken: string, outcome: SettleOutcome, now: number): SettlePlan {
    this.checkLease(task, leaseToken);
    if (task.settling) throw new ConflictError(`task ${task.id} is already being completed`);
    // A fresh record, changed in place: copies of its 30 fields were a few % of a drain's
    // daemon samples (three records a settle before).
    const after: TaskRecord = recordOfLiveTask(task);
    after.leaseDeadline = undefined;
    let attemptOutcome: AttemptRecord["outcome"];
    if (outcome.kind === "completed") {
      const state = task.cancelRequested ? "canceled" : "completed";
      after.state = state;
      after.resultJson = outcome.resultJson;
      // An error left by an earlier, retried attempt does not describe a completed task.
      if (state === "completed") after.errorJson = undefined;
      after.finishedAt = now;
      attemptOutcome = state;
    } else {
      const next = decideAfterFailure(task, outcome.failure, false, now);
      after.state = next.state;
      after.errorJson = outcome.errorJson;
      if (next.state === "scheduled") after.runAt = next.runAt;
      else after.finishedAt = now;
      attemptOutcome = next.state === "canceled" ? "canceled" : "failed";
    }
    task.settling = true;
    const attempt = isFinalState(after.state)
      ? undefined
      : { taskId: task.id, attempt: task.attempt, worker: task.worker ?? "", startedAt: task.startedAt ?? now, endedAt: now, outcome: attemptOutcome, errorJson: outcome.kind === "failed" ? outcome.errorJson : undefined };
    return { after, attempt };
  }

  /** Undoes `planSettle` after a failed commit; timers act on the task again. */
  abortSettle(task: LiveTask): void {
    task.settling = false;
    this.timers.armAll(task);
  }

  /** Applies a committed settle. */
  applySettle(task: LiveTask, plan: SettlePlan): void {
    task.settling = false;
    // Written here rather than through moveTo's `fields`: Object.assign onto the task's
    // accessors is the generic, slow way to set four known fields (nothing moveTo does
    // before its assign reads them).
    const after = plan.after;
    task.runAt = after.runAt;
    task.resultJson = after.resultJson;
    task.errorJson = after.errorJson;
    task.finishedAt = after.finishedAt;
    this.moveTo(task, after.state);
  }

  /** Checks a heartbeat and returns the lease deadline it will set. */
  planHeartbeat(task: LiveTask, leaseToken: string, now: number): number {
    this.checkLease(task, leaseToken);
    return leaseDeadline(task, task.startedAt ?? now, now);
  }

  /** Applies a committed heartbeat (if the lease is still the same one). */
  applyHeartbeat(task: LiveTask, leaseToken: string, deadline: number, detailsJson: string | undefined): void {
    if (task.lease?.token !== leaseToken) return;
    if (detailsJson !== undefined) task.heartbeatJson = detailsJson;
    if (deadline !== task.lease.deadline) {
      task.lease.deadline = deadline;
      this.timers.armLease(task);
    }
  }

  /**
   * Plans a cancel: a task not yet running becomes `canceled` at once; a running one gets
   * `cancelRequested` and ends `canceled` when its worker reports. Throws for a settling task.
   */
  planCancel(task: LiveTask, now: number): TaskRecord {
    if (task.settling) throw new ConflictError(`task ${task.id} is finishing right now`);
    task.commitsInFlight++;
    const record = recordOfLiveTask(task);
    if (task.state === "running") return { ...record, cancelRequested: true };
    return { ...record, state: "canceled", cancelRequested: true, errorJson: JSON.stringify(CANCELED_FAILURE), finishedAt: now };
  }

  /** Applies a committed cancel (or, with `after` undefined, forgets a failed one). */
  applyCancel(task: LiveTask, after: TaskRecord | undefined): void {
    task.commitsInFlight--;
    this.timers.armAll(task);
    if (!after || task.gone) return;
    task.cancelRequested = true;
    if (after.state === "canceled") this.moveTo(task, "canceled", { errorJson: after.errorJson, finishedAt: after.finishedAt });
  }

  /**
   * Gives back tasks leased to a poll whose client went away before the answer reached it:
   * they return to the front of the line, and the attempt does not count.
   */
  release(tasks: readonly LiveTask[], now: number): Assignment[] {
    const touched = new Set<QueueState>();
    for (const task of [...tasks].reverse()) {
      if (task.state !== "running" || task.settling || task.gone) continue;
      const queue = this.queueOf(task.queue);
      queue.count(task, "running", -1);
      task.state = "pending";
      task.lease = undefined;
      // Read again at its next dispatch: the budget holds inputs of tasks that never ran.
      task.inputJson = undefined;
      task.attempt--;
      queue.count(task, "pending", 1);
      queue.ready.unshift(task);
      touched.add(queue);
    }
    return this.matchParked(touched, now);
  }

  /** Applies every timer due at `now`. */
  tick(now: number): Effects {
    const effects: Effects = { changed: [], ended: [], assignments: [], fellBack: [] };
    const touched = new Set<QueueState>();
    for (let due = this.timers.popDue(now); due; due = this.timers.popDue(now)) {
      const { task } = due;
      if (due.kind === "run") {
        this.moveTo(task, "pending", { readyAt: now });
        touched.add(this.queueOf(task.queue));
      } else if (due.kind === "lease") {
        this.expireLease(task, now, effects);
        touched.add(this.queueOf(task.queue));
      } else if (due.kind === "fallback") {
        const from = task.queue;
        this.moveToQueue(task, task.fallbackQueue!, now);
        effects.fellBack.push({ task, from });
        touched.add(this.queueOf(task.queue));
      } else {
        const failure = due.kind === "startDeadline" ? SCHEDULE_TO_START_FAILURE : SCHEDULE_TO_CLOSE_FAILURE;
        if (task.state === "running") effects.ended.push(this.attemptRecord(task, now, "timed_out", failure));
        this.moveTo(task, "timed_out", { errorJson: JSON.stringify(failure), finishedAt: now });
      }
      effects.changed.push(task);
    }
    for (let wake = this.queueWakes.popDue(now); wake; wake = this.queueWakes.popDue(now)) touched.add(wake.key);
    effects.assignments = this.matchParked(touched, now);
    return effects;
  }

  /** The earliest pending timer (epoch ms), if any; the daemon sleeps until then. */
  nextDeadline(): number | undefined {
    const task = this.timers.nextAt();
    const queue = this.queueWakes.peekAt();
    return task === undefined ? queue : queue === undefined ? task : Math.min(task, queue);
  }

  /** Live counts for every queue in memory (optionally by name prefix), sorted by name. */
  queueCounts(prefix = ""): QueueCounts[] {
    return [...this.queues.values()]
      .filter((q) => q.name.startsWith(prefix))
      .map((q) => ({ name: q.name, ...q.counts, pollersWaiting: q.parked.size }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Makes a task live; with `mayWaitInStore`, a plain pending task may go cold instead (see cold-tail.ts). */
  private register(task: LiveTask, mayWaitInStore = false): QueueState {
    const queue = this.queueOf(task.queue);
    queue.count(task, task.state as LiveTaskState, 1);
    if (task.state === "pending") {
      if (queue.ready.push(task, mayWaitInStore ? this.lineRoom() : Infinity)) {
        // Counted, and listed by its line; the store holds the rest of it.
        this.coldCount++;
        task.inputJson = undefined;
        return queue;
      }
      this.tasks.add(task);
      this.timers.armStart(task);
    } else if (task.state === "scheduled") {
      this.tasks.add(task);
      this.timers.armRun(task);
    } else {
      this.tasks.add(task);
      if (task.state === "running") this.timers.armLease(task);
    }
    this.timers.armClose(task);
    this.timers.armFallback(task);
    return queue;
  }

  /** Moves a task that has not started to another queue (its entry in the old ring goes stale). */
  private moveToQueue(task: LiveTask, queueName: string, now: number): void {
    const state = task.state as LiveTaskState;
    this.queueOf(task.queue).count(task, state, -1);
    task.queue = queueName;
    task.fallbackAt = undefined;
    const queue = this.queueOf(queueName);
    queue.count(task, state, 1);
    if (state === "pending") {
      task.readyAt = now;
      queue.ready.push(task);
      this.timers.armStart(task);
    }
  }

  private expireLease(task: LiveTask, now: number, effects: Effects): void {
    const failure = leaseTimeoutFailure(task);
    const next = decideAfterFailure(task, failure, true, now);
    const outcome = next.state === "canceled" ? "canceled" : "timed_out";
    effects.ended.push(this.attemptRecord(task, now, outcome, failure));
    const errorJson = JSON.stringify(failure);
    if (next.state === "scheduled") this.moveTo(task, "scheduled", { runAt: next.runAt, errorJson });
    else this.moveTo(task, next.state, { errorJson, finishedAt: now });
  }

  /** Changes a task's state, keeping counts, rings, timers and the registry in step. */
  private moveTo(task: LiveTask, state: TaskState, fields?: Partial<LiveTask>): void {
    const queue = this.queueOf(task.queue);
    queue.count(task, task.state as LiveTaskState, -1);
    if (state !== "running") this.dropInput(task);
    if (fields !== undefined) Object.assign(task, fields);
    task.state = state;
    if (state !== "running") task.lease = undefined;
    if (state === "pending") {
      task.runAt = undefined;
      queue.count(task, "pending", 1);
      queue.ready.push(task);
      this.timers.armStart(task);
    } else if (state === "scheduled") {
      queue.count(task, "scheduled", 1);
      this.timers.armRun(task);
    } else if (state === "running") {
      queue.count(task, "running", 1);
    } else if (isFinalState(state)) {
      task.gone = true;
      this.tasks.delete(task.id);
      queue.countEnd(state);
      // A queue whose last task ended and that nobody polls leaves memory at once.
      if (queue.pending + queue.scheduled + queue.running === 0) this.dropIfIdle(queue, task.finishedAt ?? 0);
    }
  }

  private lease(queue: QueueState, task: LiveTask, worker: string, now: number): void {
    // A kept input now belongs to the lease, outside the pending budget.
    if (task.inputJson !== undefined) this.pendingInputChars -= task.inputJson.length;
    task.state = "running";
    task.startAttempt(worker, now, { token: this.options.newLeaseToken(), deadline: leaseDeadline(task, now, now) });
    if (task.readyAt !== undefined) this.scheduleToStartSeconds.observe(Math.max(0, now - task.readyAt) / 1000);
    task.readyAt = undefined;
    queue.count(task, "pending", -1);
    queue.count(task, "running", 1);
    queue.takeToken(now);
    queue.countDispatch(now);
    this.timers.armLease(task);
  }

  private attemptRecord(task: LiveTask, now: number, outcome: AttemptRecord["outcome"], failure: TaskFailure): AttemptRecord {
    return { taskId: task.id, attempt: task.attempt, worker: task.worker ?? "", startedAt: task.startedAt ?? now, endedAt: now, outcome, errorJson: JSON.stringify(failure) };
  }

  private matchParked(queues: Set<QueueState>, now: number): Assignment[] {
    const assignments: Assignment[] = [];
    for (const queue of queues) {
      for (const poller of queue.parked.values()) {
        if (queue.pending === 0) break;
        const tasks = this.takeReady(queue, poller.types, poller.max, now);
        if (tasks.length === 0) continue;
        for (const task of tasks) this.lease(queue, task, poller.identity, now);
        queue.removeParked(poller.id);
        queue.pollers.parkedChanged(poller.identity, -1, now);
        this.parkedQueueOf.delete(poller.id);
        this.forgetYielder(poller.id);
        assignments.push({ pollerId: poller.id, tasks });
      }
      if (this.yieldersTo.size > 0 && queue.pending > 0) this.yieldTo(queue, now, assignments);
      this.armWake(queue, now);
    }
    return assignments;
  }

  /**
   * Tasks left ready on `queue` after its parked polls took theirs: a poll parked elsewhere that
   * yields to `queue` holds a slot its worker's poll of `queue` is waiting for (the worker has
   * fewer slots than queues, and they take turns). Each such poll whose types include a ready
   * one is answered empty (an assignment without tasks), so the slot comes back and the
   * worker's turn on `queue` comes at once, not when the other poll times out. A stale entry in
   * the ready lines can cost a worker one needless turn; nothing loops, since only a task made
   * ready gets here.
   */
  private yieldTo(queue: QueueState, now: number, assignments: Assignment[]): void {
    const ids = this.yieldersTo.get(queue.name);
    if (ids === undefined || queue.paused || queue.tokens(now) < 1) return;
    for (const id of [...ids]) {
      const yielder = this.yielders.get(id);
      if (yielder !== undefined && queue.ready.mayHoldAny(yielder.types) && this.unpark(id, now)) assignments.push({ pollerId: id, tasks: [] });
    }
  }

  /** Takes ready tasks unless the queue is paused, within its and its keys' rate limits. */
  private takeReady(queue: QueueState, types: readonly string[], max: number, now: number): LiveTask[] {
    if (queue.paused) return [];
    // Each leased task then takes its token (see lease), so the budget is fixed up front.
    const budget = Math.min(max, queue.tokens(now));
    return budget < 1 ? [] : queue.ready.take(types, budget, queue.keyPolicy(now), this.refill);
  }

  /**
   * Reads the next chunk of a line's cold tasks from the store into memory (the line pushes
   * them); listed tasks the store no longer holds pending leave the queue's counts.
   */
  private readColdIn(tail: ColdTail, inMemory: number): LiveTask[] {
    // Up to the line's floor always; beyond it only as far as the budget has room.
    const room = Math.min(REFILL_CHUNK, Math.max(this.lineFloor - inMemory, this.hotMax - this.tasks.size));
    const chunk = room < REFILL_MIN && inMemory >= this.lineFloor / 2 ? 0 : room;
    const source = this.options.coldTasks;
    if (chunk <= 0 || source === undefined) return [];
    const seqs = tail.nextSeqs(chunk);
    if (seqs.length === 0) return [];
    const found: TaskRecord[] = [];
    let missing = tail.take(source.loadCold(tail.line, seqs), seqs[seqs.length - 1]!, found);
    const loaded: LiveTask[] = [];
    for (const record of found) {
      if (this.tasks.has(record.id)) {
        missing++;
        continue;
      }
      const task = pendingTaskOfStored(record);
      this.tasks.add(task);
      loaded.push(task);
    }
    this.coldCount -= loaded.length + missing;
    if (missing > 0) this.queues.get(tail.line.queue)?.forgetPending(tail.line.fairnessKey, missing);
    return loaded;
  }

  /** A rate-limited queue with parked polls and backlog wakes when its next token accrues. */
  private armWake(queue: QueueState, now: number): void {
    if (queue.paused || queue.parked.size === 0 || queue.pending === 0) return;
    const at = queue.nextTokenAt(now);
    if (at !== undefined) this.queueWakes.push(Math.max(at, now + 1), queue);
  }

  private checkLease(task: LiveTask, leaseToken: string): void {
    if (task.state !== "running" || task.lease?.token !== leaseToken) {
      throw new ConflictError(`lease token of task ${task.id} is stale: the lease expired or the task was redelivered`);
    }
  }

  private queueOf(name: string): QueueState {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new QueueState(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private dropIfIdle(queue: QueueState, now: number): boolean {
    if (!queue.isIdle(now) || this.queues.get(queue.name) !== queue) return false;
    this.queues.delete(queue.name);
    return true;
  }
}

export type { ParkedPoller };

/** A pending task read back from the store: pending since its creation unless the row says when, its input left there. */
function pendingTaskOfStored(record: TaskRecord): LiveTask {
  const task = liveTaskOfRecord(record);
  task.readyAt ??= record.createdAt;
  task.inputJson = undefined;
  return task;
}
