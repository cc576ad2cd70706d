/**
 * One task queue in memory: ready tasks in FIFO rings by type and priority (so a poll that
 * names its types never scans tasks it cannot take), the polls parked on it, and counts by
 * state. A queue exists as soon as anything names it; nothing is registered.
 */
import { RingQueue } from "./ring-queue.ts";
import type { LiveTask, TaskState } from "./task-state.ts";

export const PRIORITY_LEVELS = 5;

/** A long-poll waiting for a task of one of its types. */
export interface ParkedPoller {
  readonly id: number;
  readonly queue: string;
  readonly types: readonly string[];
  /** How many tasks the poller can take at once (its worker's free slots). */
  readonly max: number;
  readonly identity: string;
  /** Epoch ms. */
  readonly parkedAt: number;
}

export type StateCounts = Record<TaskState, number>;

export function emptyCounts(): StateCounts {
  return { scheduled: 0, pending: 0, running: 0, completed: 0, failed: 0, canceled: 0, timed_out: 0 };
}

export class QueueState {
  /** Ready rings by type, one per priority level (index 0 = priority 1, dispatched first). */
  private readonly readyByType = new Map<string, RingQueue<LiveTask>[]>();
  /** Parked polls in arrival order (Map keeps insertion order): first come, first served. */
  readonly parked = new Map<number, ParkedPoller>();
  readonly counts: StateCounts = emptyCounts();

  constructor(readonly name: string) {}

  /** Appends a pending task to the back of its line. */
  pushReady(task: LiveTask): void {
    this.ringFor(task).push(task);
  }

  /** Puts a pending task back at the front of its line. */
  unshiftReady(task: LiveTask): void {
    this.ringFor(task).unshift(task);
  }

  /**
   * Removes up to `max` ready tasks of the given types: strictly by priority, then oldest
   * `seq` first across the types. Entries of tasks that are no longer pending (canceled, timed
   * out) are dropped on the way.
   */
  takeReady(types: readonly string[], max: number): LiveTask[] {
    const taken: LiveTask[] = [];
    for (let level = 0; level < PRIORITY_LEVELS && taken.length < max; level++) {
      while (taken.length < max) {
        const ring = this.oldestHead(types, level);
        if (ring === undefined) break;
        const task = ring.shift()!;
        if (!task.gone && task.state === "pending") taken.push(task);
      }
    }
    return taken;
  }

  /** True when no live task or poll keeps this queue worth holding in memory. */
  isIdle(): boolean {
    const c = this.counts;
    return c.scheduled === 0 && c.pending === 0 && c.running === 0 && this.parked.size === 0;
  }

  private oldestHead(types: readonly string[], level: number): RingQueue<LiveTask> | undefined {
    let best: RingQueue<LiveTask> | undefined;
    let bestSeq = Infinity;
    for (const type of types) {
      const ring = this.readyByType.get(type)?.[level];
      const head = ring?.peek();
      if (head !== undefined && head.seq < bestSeq) {
        best = ring;
        bestSeq = head.seq;
      }
    }
    return best;
  }

  private ringFor(task: LiveTask): RingQueue<LiveTask> {
    let rings = this.readyByType.get(task.type);
    if (!rings) {
      rings = Array.from({ length: PRIORITY_LEVELS }, () => new RingQueue<LiveTask>(4));
      this.readyByType.set(task.type, rings);
    }
    const level = Math.min(PRIORITY_LEVELS, Math.max(1, task.priority)) - 1;
    return rings[level]!;
  }
}
