/**
 * Every task timer in one deadline heap: delays and retry backoffs (`run`), leases, and the
 * schedule-to-start and schedule-to-close deadlines. Entries are never removed early; on pop an
 * entry is checked against the task's current fields, so a stale one (the task moved on, the
 * lease was extended) is simply skipped. One heap, not one setTimeout per task.
 */
import { DeadlineHeap } from "./deadline-heap.ts";
import type { LiveTask } from "./task-state.ts";

export type TimerKind = "run" | "lease" | "startDeadline" | "closeDeadline" | "fallback";

interface TimerEntry {
  task: LiveTask;
  kind: TimerKind;
  /** The lease token a lease timer was armed for. */
  token?: string;
}

/** Fewest entries at which the heap is compacted (below that, stale entries cost little). */
const MIN_COMPACT_SIZE = 1_024;

export class TaskTimers {
  private readonly heap = new DeadlineHeap<TimerEntry>();
  /**
   * The heap is compacted when it reaches this size, then the limit is twice what survived:
   * O(1) amortized per entry. Without it, every finished task stayed in memory through its
   * lease entry until the lease deadline (5 minutes by default): a drain of 500,000 tasks held
   * them all, and 100,000 idle queues kept 86 MiB of heap.
   */
  private compactAt = MIN_COMPACT_SIZE;

  armRun(task: LiveTask): void {
    if (task.runAt !== undefined) this.push(task.runAt, { task, kind: "run" });
  }

  armLease(task: LiveTask): void {
    if (task.lease) this.push(task.lease.deadline, { task, kind: "lease", token: task.lease.token });
  }

  /** Schedule-to-start: counted from when the task (or this attempt) became pending. */
  armStart(task: LiveTask): void {
    const limit = task.options.scheduleToStartMs;
    if (limit !== undefined && task.readyAt !== undefined) this.push(task.readyAt + limit, { task, kind: "startDeadline" });
  }

  armClose(task: LiveTask): void {
    if (task.closeDeadline !== undefined) this.push(task.closeDeadline, { task, kind: "closeDeadline" });
  }

  /** A task that has not started by its fallback time moves to its fallback queue. */
  armFallback(task: LiveTask): void {
    if (task.fallbackAt !== undefined && task.fallbackQueue !== undefined) this.push(task.fallbackAt, { task, kind: "fallback" });
  }

  get size(): number {
    return this.heap.size;
  }

  /** Re-arms every timer that applies to the task (after a commit held them back). */
  armAll(task: LiveTask): void {
    if (task.state === "scheduled") this.armRun(task);
    if (task.state === "pending") this.armStart(task);
    if (task.state === "running") this.armLease(task);
    this.armClose(task);
    this.armFallback(task);
  }

  /** Pops the next timer due at `now` that still applies to its task. */
  popDue(now: number): { task: LiveTask; kind: TimerKind } | undefined {
    for (let entry = this.heap.popDue(now); entry; entry = this.heap.popDue(now)) {
      const { at, key } = entry;
      if (isCurrent(key, at, now)) return key;
    }
    return undefined;
  }

  nextAt(): number | undefined {
    return this.heap.peekAt();
  }

  private push(at: number, entry: TimerEntry): void {
    this.heap.push(at, entry);
    if (this.heap.size < this.compactAt) return;
    this.heap.retain(({ at, key }) => mayFire(key, at));
    this.compactAt = Math.max(MIN_COMPACT_SIZE, 2 * this.heap.size);
  }
}

/**
 * False for an entry that can never fire: its task left memory, or the field it was armed for
 * changed. Every transition that makes a timer apply again arms a new entry (a new lease, a new
 * run time, pending again), so dropping such an entry early changes nothing. A fallback entry
 * is kept while its time stands, since a released first attempt makes it apply again.
 */
function mayFire({ task, kind, token }: TimerEntry, at: number): boolean {
  if (task.gone) return false;
  switch (kind) {
    case "run":
      return task.state === "scheduled" && task.runAt === at;
    case "lease":
      return task.lease?.token === token;
    case "startDeadline":
      return task.state === "pending" && task.readyAt !== undefined && task.readyAt + (task.options.scheduleToStartMs ?? Infinity) === at;
    case "closeDeadline":
      return task.closeDeadline === at;
    case "fallback":
      return task.fallbackAt === at;
  }
}

function isCurrent({ task, kind, token }: TimerEntry, at: number, now: number): boolean {
  if (task.gone || task.settling || task.commitsInFlight > 0) return false;
  switch (kind) {
    case "run":
      return task.state === "scheduled" && task.runAt === at;
    case "lease":
      return task.state === "running" && task.lease?.token === token && (task.lease?.deadline ?? Infinity) <= now;
    case "startDeadline":
      return task.state === "pending" && task.readyAt !== undefined && task.readyAt + (task.options.scheduleToStartMs ?? Infinity) === at;
    case "closeDeadline":
      return task.closeDeadline === at;
    case "fallback":
      return task.fallbackAt === at && task.attempt === 0 && (task.state === "pending" || task.state === "scheduled");
  }
}
