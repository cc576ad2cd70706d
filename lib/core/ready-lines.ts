/**
 * The ready tasks of one queue: strictly by priority level; within a level, weighted
 * round-robin between fairness keys (a key gets `weight` dispatches in a row, then the next key
 * with backlog gets its turn), so one tenant's burst cannot starve another's few tasks; within
 * a key, FIFO (oldest `seq` first across the task types a poll names).
 *
 * Tasks without a fairness key share the key "". With one key the rotation is a no-op, so the
 * common case costs one map lookup more than a plain FIFO.
 */
import { RingQueue } from "./ring-queue.ts";
import { SmallMap } from "./small-map.ts";
import type { LiveTask } from "./task-state.ts";

export const PRIORITY_LEVELS = 5;

export interface PendingCensus {
  /** Index 0 = priority 1. */
  byLevel: number[];
  byKey: Map<string, number>;
  byType: Map<string, number>;
}

/** What the rotation asks of the queue about each key. */
export interface KeyPolicy {
  weight(key: string): number;
  /** False while the key's own rate limit has no token. */
  allows(key: string): boolean;
  took(key: string): void;
}

class KeyLine {
  readonly byType = new SmallMap<RingQueue<LiveTask>>();
  /** Ring entries, stale ones (canceled or timed-out tasks) included until they are dropped. */
  entries = 0;
  /** The line is in its level's rotation. */
  inRotation = false;

  constructor(readonly key: string) {}

  ring(type: string): RingQueue<LiveTask> {
    let ring = this.byType.get(type);
    if (!ring) this.byType.set(type, (ring = new RingQueue<LiveTask>(4)));
    return ring;
  }

  /** The ring whose head is the oldest task of the given types. */
  oldest(types: readonly string[]): RingQueue<LiveTask> | undefined {
    let best: RingQueue<LiveTask> | undefined;
    let bestSeq = Infinity;
    for (const type of types) {
      const ring = this.byType.get(type);
      const head = ring?.peek();
      if (head !== undefined && head.seq < bestSeq) {
        best = ring;
        bestSeq = head.seq;
      }
    }
    return best;
  }
}

class Level {
  readonly lines = new SmallMap<KeyLine>();
  /** Keys with entries, in rotation order. */
  readonly active: KeyLine[] = [];
  cursor = 0;
  /** Dispatches left in the current key's turn. */
  credit = 0;

  line(key: string): KeyLine {
    let line = this.lines.get(key);
    if (!line) this.lines.set(key, (line = new KeyLine(key)));
    if (!line.inRotation) {
      line.inRotation = true;
      this.active.push(line);
    }
    return line;
  }
}

export class ReadyLines {
  /** Entries of tasks that moved to another queue (fallback) are stale here and skipped. */
  constructor(private readonly queueName: string) {}

  /** Created on first use: most queues only ever see the default priority. */
  private readonly levels: (Level | undefined)[] = new Array(PRIORITY_LEVELS);

  push(task: LiveTask): void {
    const line = this.levelOf(task).line(task.fairnessKey ?? "");
    line.ring(task.type).push(task);
    line.entries++;
  }

  /** Puts a task back at the front of its line (a redelivery keeps its place). */
  unshift(task: LiveTask): void {
    const line = this.levelOf(task).line(task.fairnessKey ?? "");
    line.ring(task.type).unshift(task);
    line.entries++;
  }

  /** Removes up to `max` pending tasks of the given types, highest priority first, keys in weighted rotation. */
  take(types: readonly string[], max: number, policy: KeyPolicy): LiveTask[] {
    const taken: LiveTask[] = [];
    for (const level of this.levels) {
      if (!level) continue;
      while (taken.length < max) {
        const line = this.nextLine(level, types, policy);
        if (!line) break;
        const task = line.oldest(types)!.shift()!;
        line.entries--;
        if (task.gone || task.state !== "pending" || task.queue !== this.queueName) continue;
        taken.push(task);
        policy.took(line.key);
        if (--level.credit <= 0) level.cursor++;
      }
      if (taken.length >= max) break;
    }
    return taken;
  }

  /** The key whose turn it is and that has a task of `types`; drops keys that ran empty. */
  private nextLine(level: Level, types: readonly string[], policy: KeyPolicy): KeyLine | undefined {
    for (let checked = 0; checked <= level.active.length; ) {
      if (level.active.length === 0) return undefined;
      if (level.cursor >= level.active.length) level.cursor = 0;
      const line = level.active[level.cursor]!;
      if (line.entries === 0) {
        level.active.splice(level.cursor, 1);
        line.inRotation = false;
        level.lines.delete(line.key);
        level.credit = 0;
        continue;
      }
      if (line.oldest(types) !== undefined && policy.allows(line.key)) {
        if (level.credit <= 0) level.credit = Math.max(1, policy.weight(line.key));
        return line;
      }
      level.cursor++;
      level.credit = 0;
      checked++;
    }
    return undefined;
  }

  /** Pending tasks counted by level, fairness key and type: O(pending), for describe and explain. */
  census(): PendingCensus {
    const census: PendingCensus = { byLevel: new Array<number>(PRIORITY_LEVELS).fill(0), byKey: new Map(), byType: new Map() };
    this.levels.forEach((level, index) => {
      for (const line of level?.active ?? []) {
        for (const [type, ring] of line.byType.entries()) {
          let live = 0;
          ring.forEach((task) => {
            if (!task.gone && task.state === "pending" && task.queue === this.queueName) live++;
          });
          if (live === 0) continue;
          census.byLevel[index]! += live;
          census.byKey.set(line.key, (census.byKey.get(line.key) ?? 0) + live);
          census.byType.set(type, (census.byType.get(type) ?? 0) + live);
        }
      }
    });
    return census;
  }

  /** The oldest `readyAt` among ring heads: the age of the queue's oldest pending task. */
  oldestReadyAt(): number | undefined {
    let oldest: number | undefined;
    for (const level of this.levels) {
      for (const line of level?.active ?? []) {
        for (const [, ring] of line.byType.entries()) {
          const head = ring.peek();
          if (head && !head.gone && head.state === "pending" && head.queue === this.queueName && head.readyAt !== undefined && (oldest === undefined || head.readyAt < oldest)) oldest = head.readyAt;
        }
      }
    }
    return oldest;
  }

  private levelOf(task: LiveTask): Level {
    const index = Math.min(PRIORITY_LEVELS, Math.max(1, task.priority)) - 1;
    return (this.levels[index] ??= new Level());
  }
}
