/**
 * A deep backlog waits in the store, not in memory. The daemon keeps up to `hotTasks` live
 * tasks in memory in all, and each ready line (one queue, priority, fairness key and task
 * type) at least `hotTasksPerLine` of its pending ones; a task enqueued beyond that stays only
 * in the store, listed by its line's `ColdTail`, and is read back in seq order, a chunk at a
 * time, as the line drains (up to the line's floor, or more while the budget has room). A
 * backlog then costs the memory of the tasks in memory plus 8 bytes a task, whatever its
 * depth and however many lines (tenants, types) it spreads over.
 *
 * Only plain pending tasks go cold: no timer of theirs may fire while they wait (no
 * schedule-to-start or schedule-to-close deadline, no fallback) and no routing statistics
 * count them (not routed). Everything else stays in memory as before. A cold task that an
 * operation names by id (a cancel, a workflow's repair at boot) is read in at once
 * (`DispatchCore.faultIn`).
 */
import type { LiveTaskState, TaskRecord } from "./task-state.ts";

/** Live tasks kept in memory in all before new plain ones wait in the store. */
export const DEFAULT_HOT_TASKS = 20_000;
/** Pending tasks every line may keep in memory whatever the budget, so each dispatches at speed. */
export const DEFAULT_HOT_TASKS_PER_LINE = 1_024;
/** A line reads cold tasks in once fewer than this many wait in memory... */
export const REFILL_BELOW = 4_096;
/** ...at most this many at a time (a read of about 2.6 ms here, rows and task objects; larger chunks stall the thread longer)... */
export const REFILL_CHUNK = 2_048;
/** ...and at least this many, unless the line has less than half its floor left (a read's fixed cost, once a poll, adds up). */
export const REFILL_MIN = 256;

/** What identifies a line's tasks in the store. */
export interface ColdLine {
  readonly queue: string;
  readonly type: string;
  readonly priority: number;
  readonly fairnessKey: string | undefined;
}

/** Reads cold tasks back (the store, injected: the core does no I/O of its own choosing). */
export interface ColdTaskSource {
  /**
   * The tasks of `line` with these seqs (ascending) that are still pending, in seq order,
   * inputs left out (`inputJson` undefined). Synchronous: a line is refilled in the middle of
   * a match.
   */
  loadCold(line: ColdLine, seqs: readonly number[]): TaskRecord[];
}

/**
 * The cold part of one line: the seqs of its tasks that wait in the store only, in order.
 * A load reads exactly the next listed seqs' rows (by rowid), so neither another line's rows
 * between them nor a row never counted here (its enqueue committed, but not yet added to the
 * core) is ever read. Listed seqs cost 8 bytes a task; a removed one (read in by id) is kept
 * negated until the loads pass it.
 */
export class ColdTail {
  /** Tasks listed and not removed. */
  count = 0;
  private seqs = new Float64Array(64);
  /** Listed seqs are `seqs[head..end)`, ascending by absolute value. */
  private head = 0;
  private end = 0;

  constructor(readonly line: ColdLine) {}

  /** True when `task` belongs to this tail's line (only such a task can be read back by it). */
  holds(task: { queue: string; type: string; priority: number; fairnessKey: string | undefined }): boolean {
    const line = this.line;
    return task.queue === line.queue && task.type === line.type && task.priority === line.priority && task.fairnessKey === line.fairnessKey;
  }

  /** Lists a task that now waits in the store only. */
  add(seq: number): void {
    if (this.end === this.seqs.length) this.makeRoom();
    let at = this.end;
    // Tasks go cold in seq order but for a rare commit that finished out of order.
    while (at > this.head && Math.abs(this.seqs[at - 1]!) > seq) at--;
    if (at < this.end) this.seqs.copyWithin(at + 1, at, this.end);
    this.seqs[at] = seq;
    this.end++;
    this.count++;
  }

  /** Unlists a task read in by id; false when it is not listed. */
  remove(seq: number): boolean {
    let low = this.head;
    let high = this.end - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.seqs[mid]!;
      const at = Math.abs(value);
      if (at === seq) {
        if (value < 0) return false;
        this.seqs[mid] = -value;
        this.count--;
        return true;
      }
      if (at < seq) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }

  /** Up to `chunk` of the next listed seqs (ascending; none when nothing is listed). */
  nextSeqs(chunk: number): number[] {
    const seqs: number[] = [];
    for (let at = this.head; at < this.end && seqs.length < chunk; at++) {
      const seq = this.seqs[at]!;
      if (seq > 0) seqs.push(seq);
    }
    return seqs;
  }

  /**
   * Matches the rows read for `nextSeqs` (ascending) against the list: moves them to `found`
   * and unlists them, and unlists the seqs up to `upToSeq` (the last one asked for) that had
   * no row (tasks no longer pending in the store). Returns how many had none.
   */
  take<R extends { seq: number }>(rows: readonly R[], upToSeq: number, found: R[]): number {
    let missing = 0;
    for (const row of rows) {
      while (this.head < this.end && Math.abs(this.seqs[this.head]!) < row.seq) missing += this.pass();
      if (this.head < this.end && this.seqs[this.head] === row.seq) {
        found.push(row);
        this.head++;
        this.count--;
      }
    }
    while (this.head < this.end && Math.abs(this.seqs[this.head]!) <= upToSeq) missing += this.pass();
    if (this.head === this.end) {
      this.head = this.end = 0;
      // A drained backlog gives its list back.
      if (this.seqs.length > 64) this.seqs = new Float64Array(64);
    }
    return missing;
  }

  /** Steps over the head seq: 1 if it was listed (its task vanished), 0 if it was removed. */
  private pass(): number {
    const listed = this.seqs[this.head]! > 0;
    this.head++;
    if (!listed) return 0;
    this.count--;
    return 1;
  }

  private makeRoom(): void {
    const used = this.end - this.head;
    if (used * 2 > this.seqs.length) {
      const seqs = new Float64Array(this.seqs.length * 2);
      seqs.set(this.seqs.subarray(this.head, this.end));
      this.seqs = seqs;
    } else {
      this.seqs.copyWithin(0, this.head, this.end);
    }
    this.head = 0;
    this.end = used;
  }
}

/** What decides whether a task may wait in the store only (a live task, or a boot's placement). */
export type ColdCandidate = Pick<TaskRecord, "state" | "options" | "closeDeadline" | "fallbackAt" | "routedFrom" | "cancelRequested">;

/**
 * Where a live task belongs, read at boot before its whole row (see DispatchCore.restore): a
 * plain pending task of a line already full is only listed, and its row is never read whole.
 */
export interface LivePlacement extends ColdLine, ColdCandidate {
  readonly seq: number;
  readonly state: LiveTaskState;
  /** A running task without a lease was never dispatched durably: it is pending again. */
  readonly leased: boolean;
}

/**
 * True for a pending task that may wait in the store only: nothing about it needs memory
 * until it is dispatched.
 */
export function mayGoCold(task: ColdCandidate): boolean {
  return (
    task.state === "pending" &&
    task.options.scheduleToStartMs === undefined &&
    task.closeDeadline === undefined &&
    task.fallbackAt === undefined &&
    task.routedFrom === undefined &&
    !task.cancelRequested
  );
}
