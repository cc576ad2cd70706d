/**
 * A task in memory, laid out for deep backlogs: a million pending tasks must fit in a few
 * hundred megabytes.
 *
 * Why a class with accessors rather than a plain object: JavaScriptCore sizes an object by its
 * property count (measured on Bun 1.4: up to 8 properties take 80 bytes, 9-12 take 112, 13-18
 * take 160, the former 33-property literal took 320). A task has 8 own properties: what each
 * task has alone (id, seq, state, times, input), a shared `TaskKind` (queue, type, priority,
 * fairness key, options: tasks enqueued together share one), and `TaskExtras` for the fields a
 * task waiting for its first dispatch does not set, allocated by the first write of a value
 * other than the field's default (a dispatch, a delay, headers, routing, a retry). Reads of an
 * unset extra return its default, so code reads and writes every field as if it were a plain
 * property. Spread (`{...task}`) sees only the own fields: use `recordOfLiveTask`.
 */
import type { TaskOptions } from "./task-options.ts";
import type { Lease, TaskRecord, TaskState } from "./task-state.ts";

/** The fields of a task that most pending tasks leave at their defaults. */
class TaskExtras {
  attempt = 0;
  budgetStart = 0;
  lease: Lease | undefined = undefined;
  worker: string | undefined = undefined;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  settling = false;
  gone = false;
  commitsInFlight = 0;
  cancelRequested = false;
  runAt: number | undefined = undefined;
  closeDeadline: number | undefined = undefined;
  resultJson: string | undefined = undefined;
  errorJson: string | undefined = undefined;
  heartbeatJson: string | undefined = undefined;
  headers: Readonly<Record<string, string>> | undefined = undefined;
  routedFrom: string | undefined = undefined;
  routeRuleId: string | undefined = undefined;
  fallbackQueue: string | undefined = undefined;
  fallbackAt: number | undefined = undefined;
}

/**
 * The defaults of every extra, read by `toRecord` for a task that has none. Never written; an
 * instance of the class rather than a frozen copy, so reads of it and of a task's own extras
 * see one object shape.
 */
const NO_EXTRAS = new TaskExtras();

/** What every task has from its creation. */
export type LiveTaskCore = Pick<TaskRecord, "id" | "seq" | "queue" | "type" | "state" | "priority" | "fairnessKey" | "options" | "createdAt" | "readyAt" | "inputJson">;

/**
 * What many tasks have in common, shared: the queue, type, priority, fairness key and options
 * of a batch (or of a whole boot) are one object, not five fields in every task. Immutable;
 * changing one of them moves the task to another kind.
 */
interface TaskKind {
  readonly queue: string;
  readonly type: string;
  readonly priority: number;
  readonly fairnessKey: string | undefined;
  readonly options: TaskOptions;
}

/** Kinds by their fields. Cleared when full: that only costs sharing, never correctness. */
const kinds = new Map<string, TaskKind>();
const MAX_KINDS = 10_000;
/** Options objects are told apart by identity (equal ones are shared: see task-options.ts). */
const optionsIds = new WeakMap<TaskOptions, number>();
let nextOptionsId = 1;

/** The kind asked for last: a batch, or a boot's run of rows, asks for the same one again and again. */
let lastKind: TaskKind | undefined;

function kindOf(queue: string, type: string, priority: number, fairnessKey: string | undefined, options: TaskOptions): TaskKind {
  const last = lastKind;
  if (last !== undefined && last.options === options && last.priority === priority && last.queue === queue && last.type === type && last.fairnessKey === fairnessKey) return last;
  return (lastKind = internKind(queue, type, priority, fairnessKey, options));
}

function internKind(queue: string, type: string, priority: number, fairnessKey: string | undefined, options: TaskOptions): TaskKind {
  let optionsId = optionsIds.get(options);
  if (optionsId === undefined) optionsIds.set(options, (optionsId = nextOptionsId++));
  const key = `${optionsId}:${priority}:${fairnessKey === undefined ? "" : `${fairnessKey.length}:${fairnessKey}`}:${queue.length}:${queue}:${type}`;
  let kind = kinds.get(key);
  if (!kind) {
    if (kinds.size >= MAX_KINDS) kinds.clear();
    kind = Object.freeze({ queue, type, priority, fairnessKey, options });
    kinds.set(key, kind);
  }
  return kind;
}

/** A task in memory: the dispatch truth while it is live (fields as in TaskRecord). */
export class LiveTask implements LiveTaskCore, TaskRecord {
  id: string;
  seq: number;
  state: TaskState;
  createdAt: number;
  /** Epoch ms since which the task has been pending (for schedule-to-start). */
  readyAt: number | undefined;
  /**
   * The input while the task is being created, while it is leased, and while it is pending
   * within a small budget (see DispatchCore.keepOrDropInputs); undefined otherwise: the store
   * holds it, and a deep backlog does not keep a million inputs in memory. The daemon reads it
   * back at dispatch and for `GET /v1/tasks/{id}`.
   */
  inputJson: string | undefined;
  private kind: TaskKind;
  private extras: TaskExtras | undefined;

  constructor(core: LiveTaskCore) {
    this.id = core.id;
    this.seq = core.seq;
    this.state = core.state;
    this.createdAt = core.createdAt;
    this.readyAt = core.readyAt;
    this.inputJson = core.inputJson;
    this.kind = kindOf(core.queue, core.type, core.priority, core.fairnessKey, core.options);
    this.extras = undefined;
  }

  get queue(): string { return this.kind.queue; }
  set queue(value: string) { const k = this.kind; if (value !== k.queue) this.kind = kindOf(value, k.type, k.priority, k.fairnessKey, k.options); }
  get type(): string { return this.kind.type; }
  set type(value: string) { const k = this.kind; if (value !== k.type) this.kind = kindOf(k.queue, value, k.priority, k.fairnessKey, k.options); }
  /** 1 (first) to 5. */
  get priority(): number { return this.kind.priority; }
  set priority(value: number) { const k = this.kind; if (value !== k.priority) this.kind = kindOf(k.queue, k.type, value, k.fairnessKey, k.options); }
  get fairnessKey(): string | undefined { return this.kind.fairnessKey; }
  set fairnessKey(value: string | undefined) { const k = this.kind; if (value !== k.fairnessKey) this.kind = kindOf(k.queue, k.type, k.priority, value, k.options); }
  get options(): TaskOptions { return this.kind.options; }
  set options(value: TaskOptions) { const k = this.kind; if (value !== k.options) this.kind = kindOf(k.queue, k.type, k.priority, k.fairnessKey, value); }

  private more(): TaskExtras {
    return (this.extras ??= new TaskExtras());
  }

  /**
   * A dispatch: the next attempt starts at `now` on `worker` under `lease`. One write of the
   * extras where four setters each checked for them (a dispatch writes them all).
   */
  startAttempt(worker: string, now: number, lease: Lease): void {
    const extras = this.more();
    extras.attempt++;
    extras.worker = worker;
    extras.startedAt = now;
    extras.lease = lease;
  }

  /** The record form (see recordOfLiveTask): the extras and the kind are read once each. */
  toRecord(): TaskRecord {
    const x = this.extras ?? NO_EXTRAS;
    const k = this.kind;
    const lease = x.lease;
    return {
      id: this.id,
      seq: this.seq,
      queue: k.queue,
      type: k.type,
      state: this.state,
      priority: k.priority,
      fairnessKey: k.fairnessKey,
      headers: x.headers,
      routedFrom: x.routedFrom,
      routeRuleId: x.routeRuleId,
      fallbackQueue: x.fallbackQueue,
      fallbackAt: x.fallbackAt,
      attempt: x.attempt,
      budgetStart: x.budgetStart,
      inputJson: this.inputJson,
      resultJson: x.resultJson,
      errorJson: x.errorJson,
      heartbeatJson: x.heartbeatJson,
      options: k.options,
      runAt: x.runAt,
      readyAt: this.readyAt,
      closeDeadline: x.closeDeadline,
      cancelRequested: x.cancelRequested,
      leaseToken: lease?.token,
      leaseDeadline: lease?.deadline,
      worker: x.worker,
      createdAt: this.createdAt,
      startedAt: x.startedAt,
      finishedAt: x.finishedAt,
    };
  }

  /** Dispatches over the task's life: 0 before the first. */
  get attempt(): number { return this.extras?.attempt ?? 0; }
  set attempt(value: number) { if (value !== 0 || this.extras) this.more().attempt = value; }
  /** The attempt count when the current retry budget began (0, or the count at a dead-letter requeue). */
  get budgetStart(): number { return this.extras?.budgetStart ?? 0; }
  set budgetStart(value: number) { if (value !== 0 || this.extras) this.more().budgetStart = value; }
  /** The lease a running task is held under. */
  get lease(): Lease | undefined { return this.extras?.lease; }
  set lease(value: Lease | undefined) { if (value !== undefined || this.extras) this.more().lease = value; }
  /** The record's view of the lease (see TaskRecord), so a task can stand for its own record. */
  get leaseToken(): string | undefined { return this.extras?.lease?.token; }
  get leaseDeadline(): number | undefined { return this.extras?.lease?.deadline; }
  /** Identity of the worker of the latest attempt. */
  get worker(): string | undefined { return this.extras?.worker; }
  set worker(value: string | undefined) { if (value !== undefined || this.extras) this.more().worker = value; }
  /** Epoch ms when the latest attempt started. */
  get startedAt(): number | undefined { return this.extras?.startedAt; }
  set startedAt(value: number | undefined) { if (value !== undefined || this.extras) this.more().startedAt = value; }
  get finishedAt(): number | undefined { return this.extras?.finishedAt; }
  set finishedAt(value: number | undefined) { if (value !== undefined || this.extras) this.more().finishedAt = value; }
  /** A settle is being committed: timers and other settles must not act on the task meanwhile. */
  get settling(): boolean { return this.extras?.settling ?? false; }
  set settling(value: boolean) { if (value || this.extras) this.more().settling = value; }
  /** The task left memory (final, or deleted): stale ring and timer entries skip it. */
  get gone(): boolean { return this.extras?.gone ?? false; }
  set gone(value: boolean) { if (value || this.extras) this.more().gone = value; }
  /** Other commits of this task in flight (a cancel): timers wait for them. */
  get commitsInFlight(): number { return this.extras?.commitsInFlight ?? 0; }
  set commitsInFlight(value: number) { if (value !== 0 || this.extras) this.more().commitsInFlight = value; }
  get cancelRequested(): boolean { return this.extras?.cancelRequested ?? false; }
  set cancelRequested(value: boolean) { if (value || this.extras) this.more().cancelRequested = value; }
  /** Epoch ms at which a scheduled task becomes pending. */
  get runAt(): number | undefined { return this.extras?.runAt; }
  set runAt(value: number | undefined) { if (value !== undefined || this.extras) this.more().runAt = value; }
  /** Epoch ms: the schedule-to-close deadline, if the task has one. */
  get closeDeadline(): number | undefined { return this.extras?.closeDeadline; }
  set closeDeadline(value: number | undefined) { if (value !== undefined || this.extras) this.more().closeDeadline = value; }
  get resultJson(): string | undefined { return this.extras?.resultJson; }
  set resultJson(value: string | undefined) { if (value !== undefined || this.extras) this.more().resultJson = value; }
  get errorJson(): string | undefined { return this.extras?.errorJson; }
  set errorJson(value: string | undefined) { if (value !== undefined || this.extras) this.more().errorJson = value; }
  get heartbeatJson(): string | undefined { return this.extras?.heartbeatJson; }
  set heartbeatJson(value: string | undefined) { if (value !== undefined || this.extras) this.more().heartbeatJson = value; }
  get headers(): Readonly<Record<string, string>> | undefined { return this.extras?.headers; }
  set headers(value: Readonly<Record<string, string>> | undefined) { if (value !== undefined || this.extras) this.more().headers = value; }
  get routedFrom(): string | undefined { return this.extras?.routedFrom; }
  set routedFrom(value: string | undefined) { if (value !== undefined || this.extras) this.more().routedFrom = value; }
  get routeRuleId(): string | undefined { return this.extras?.routeRuleId; }
  set routeRuleId(value: string | undefined) { if (value !== undefined || this.extras) this.more().routeRuleId = value; }
  get fallbackQueue(): string | undefined { return this.extras?.fallbackQueue; }
  set fallbackQueue(value: string | undefined) { if (value !== undefined || this.extras) this.more().fallbackQueue = value; }
  /** Epoch ms; a task not started by then moves to `fallbackQueue`. */
  get fallbackAt(): number | undefined { return this.extras?.fallbackAt; }
  set fallbackAt(value: number | undefined) { if (value !== undefined || this.extras) this.more().fallbackAt = value; }
}

/** The record form of a task in memory, for reads and writes. */
export function recordOfLiveTask(task: LiveTask): TaskRecord {
  return task.toRecord();
}

/** A task in memory built from its record (at boot, or when a dead task is requeued). */
export function liveTaskOfRecord(record: TaskRecord): LiveTask {
  const task = new LiveTask(record);
  task.attempt = record.attempt;
  task.budgetStart = record.budgetStart;
  if (record.state === "running" && record.leaseToken !== undefined) task.lease = { token: record.leaseToken, deadline: record.leaseDeadline ?? 0 };
  task.worker = record.worker;
  task.startedAt = record.startedAt;
  task.finishedAt = record.finishedAt;
  task.cancelRequested = record.cancelRequested;
  task.runAt = record.runAt;
  task.closeDeadline = record.closeDeadline;
  task.resultJson = record.resultJson;
  task.errorJson = record.errorJson;
  task.heartbeatJson = record.heartbeatJson;
  task.headers = record.headers;
  task.routedFrom = record.routedFrom;
  task.routeRuleId = record.routeRuleId;
  task.fallbackQueue = record.fallbackQueue;
  task.fallbackAt = record.fallbackAt;
  return task;
}
