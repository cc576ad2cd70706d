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

export class TaskTimers {
  private readonly heap = new DeadlineHeap<TimerEntry>();

  armRun(task: LiveTask): void {
    if (task.runAt !== undefined) this.heap.push(task.runAt, { task, kind: "run" });
  }

  armLease(task: LiveTask): void {
    if (task.lease) this.heap.push(task.lease.deadline, { task, kind: "lease", token: task.lease.token });
  }

  /** Schedule-to-start: counted from when the task (or this attempt) became pending. */
  armStart(task: LiveTask): void {
    const limit = task.options.scheduleToStartMs;
    if (limit !== undefined && task.readyAt !== undefined) this.heap.push(task.readyAt + limit, { task, kind: "startDeadline" });
  }

  armClose(task: LiveTask): void {
    if (task.closeDeadline !== undefined) this.heap.push(task.closeDeadline, { task, kind: "closeDeadline" });
  }

  /** A task that has not started by its fallback time moves to its fallback queue. */
  armFallback(task: LiveTask): void {
    if (task.fallbackAt !== undefined && task.fallbackQueue !== undefined) this.heap.push(task.fallbackAt, { task, kind: "fallback" });
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
