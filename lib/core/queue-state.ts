/**
 * One task queue in memory: ready tasks in one FIFO ring per task type (so a poll that names
 * its types never scans tasks it cannot take), the polls parked on it, and counts by state.
 * A queue exists as soon as anything names it; nothing is registered.
 */
import { RingQueue } from "./ring-queue.ts";
import type { LiveTask } from "./task-state.ts";

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

export class QueueState {
  /** Ready tasks by type; FIFO within a type, oldest `seq` first across types. */
  private readonly readyByType = new Map<string, RingQueue<LiveTask>>();
  /** Parked polls in arrival order (Map keeps insertion order): first come, first served. */
  readonly parked = new Map<number, ParkedPoller>();
  pending = 0;
  running = 0;
  completed = 0;
  failed = 0;

  constructor(readonly name: string) {}

  /** Appends a pending task to the back of its type's line. */
  pushReady(task: LiveTask): void {
    this.ringFor(task.type).push(task);
  }

  /** Puts a pending task back at the front of its type's line. */
  unshiftReady(task: LiveTask): void {
    this.ringFor(task.type).unshift(task);
  }

  /**
   * Removes up to `max` ready tasks of the given types, oldest first. Each step takes the ring
   * head with the lowest `seq`, so a poll naming several types still sees queue order.
   */
  takeReady(types: readonly string[], max: number): LiveTask[] {
    const taken: LiveTask[] = [];
    while (taken.length < max) {
      let best: RingQueue<LiveTask> | undefined;
      let bestSeq = Infinity;
      for (const type of types) {
        const ring = this.readyByType.get(type);
        const head = ring?.peek();
        if (head !== undefined && head.seq < bestSeq) {
          best = ring;
          bestSeq = head.seq;
        }
      }
      const task = best?.shift();
      if (task === undefined) break;
      if (task.state === "pending") taken.push(task);
    }
    return taken;
  }

  /** True when no task, count or poll keeps this queue worth holding in memory. */
  isIdle(): boolean {
    return this.pending === 0 && this.running === 0 && this.parked.size === 0;
  }

  private ringFor(type: string): RingQueue<LiveTask> {
    let ring = this.readyByType.get(type);
    if (!ring) {
      ring = new RingQueue<LiveTask>();
      this.readyByType.set(type, ring);
    }
    return ring;
  }
}
