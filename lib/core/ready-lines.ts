/**
 * The ready tasks of one queue: strictly by priority level; within a level, weighted
 * round-robin between fairness keys (a key gets `weight` dispatches in a row, then the next key
 * with backlog gets its turn), so one tenant's burst cannot starve another's few tasks; within
 * a key, FIFO (oldest `seq` first across the task types a poll names).
 *
 * Tasks without a fairness key share the key "". With one key the rotation is a no-op, so the
 * common case costs one map lookup more than a plain FIFO.
 *
 * Each line (level, key, type) is a ring of tasks in memory and, behind it when the backlog is
 * deep, a tail of tasks that wait in the store only (cold-tail.ts), read in as the ring drains.
 */
import { ColdTail, mayGoCold, REFILL_BELOW, type ColdCandidate, type ColdLine } from "./cold-tail.ts";
import { RingQueue } from "./ring-queue.ts";
import { SmallMap } from "./small-map.ts";
import type { LiveTask } from "./task-state.ts";

export const PRIORITY_LEVELS = 5;

/** What places a task in a line. */
type LineKey = Pick<ColdLine, "type" | "priority" | "fairnessKey">;
/** A flat queue usually holds few tasks (W5: one); the ring doubles as it fills. */
const SOLE_RING_CAPACITY = 2;

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

/**
 * Reads up to a chunk of a tail's tasks back from the store, live and unlisted from the tail
 * (see DispatchCore); tasks listed but no longer pending are unlisted too.
 */
export type Refill = (tail: ColdTail, inMemory: number) => LiveTask[];

/** For lines that never go cold (a core without a store behind it). */
const NO_REFILL: Refill = () => [];

/** A line's tasks in memory, and those behind them that wait in the store only. */
class TaskRing extends RingQueue<LiveTask> {
  cold: ColdTail | undefined = undefined;
}

/**
 * Reads cold tasks in while few wait in memory; returns how many listed tasks were found no
 * longer pending (they leave the line's count).
 */
function topUp(ring: TaskRing, refill: Refill): number {
  const tail = ring.cold;
  if (tail === undefined || ring.length >= REFILL_BELOW) return 0;
  const before = tail.count;
  const loaded = refill(tail, ring.length);
  for (const task of loaded) ring.push(task);
  if (tail.count === 0) ring.cold = undefined;
  return before - tail.count - loaded.length;
}

/**
 * Lists a plain pending task (see `mayGoCold`) in `ring`'s tail when `hotMax` of the line are
 * in memory already, or when the line has cold tasks; true then (it waits in the store only).
 */
function listInTail(ring: TaskRing, task: ColdLine & ColdCandidate & { seq: number }, hotMax: number): boolean {
  if ((ring.cold === undefined && ring.length < hotMax) || !mayGoCold(task)) return false;
  const tail = (ring.cold ??= new ColdTail({ queue: task.queue, type: task.type, priority: task.priority, fairnessKey: task.fairnessKey }));
  if (!tail.holds(task)) return false;
  tail.add(task.seq);
  return true;
}

/** Adds a task at the back of `ring`, or (see `listInTail`, with `hotMax`) lists it cold: true then. */
function pushTo(ring: TaskRing, task: LiveTask, hotMax: number): boolean {
  if (hotMax !== Infinity && listInTail(ring, task, hotMax)) return true;
  ring.push(task);
  return false;
}

class KeyLine {
  readonly byType = new SmallMap<TaskRing>();
  /**
   * Entries in memory and in the store (cold), stale ones (canceled or timed-out tasks)
   * included until they are dropped.
   */
  entries = 0;
  /** The line is in its level's rotation. */
  inRotation = false;

  constructor(readonly key: string) {}

  ring(type: string): TaskRing {
    let ring = this.byType.get(type);
    if (!ring) this.byType.set(type, (ring = new TaskRing(4)));
    return ring;
  }

  /** The ring whose head is the oldest task of the given types (cold tasks read in first). */
  oldest(types: readonly string[], refill: Refill): TaskRing | undefined {
    let best: TaskRing | undefined;
    let bestSeq = Infinity;
    for (const type of types) {
      const ring = this.byType.get(type);
      if (ring === undefined) continue;
      if (ring.cold !== undefined) this.entries -= topUp(ring, refill);
      const head = ring.peek();
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
  /*
   * The common case, flat: while every entry has one priority level, fairness key and type,
   * a lone entry waits in `soleTask` and more of them in `soleRing`, and no level, line or map
   * exists (W5: 100,000 queues with a task each). Their level, key and type are read from the
   * entries (a task's never change). The first entry of another level, key or type moves
   * them into `levels` for good. Four fields with the queue's name: JavaScriptCore sizes an
   * object by its field count (3-4 fields 40 bytes, 7-8 fields 72).
   */
  private soleTask: LiveTask | undefined;
  private soleRing: TaskRing | undefined;
  /** Created when the queue first holds two kinds of entries; undefined while flat. */
  private levels: (Level | undefined)[] | undefined;

  /** Entries of tasks that moved to another queue (fallback) are stale here and skipped. */
  constructor(private readonly queueName: string) {}

  /**
   * Adds a task at the back of its line. With `hotMax` (a new task that may go cold, see
   * cold-tail.ts), a task behind that many of its line in memory, or behind its line's cold
   * tasks, is only counted: returns true then, and the caller lets go of it.
   */
  push(task: LiveTask, hotMax = Infinity): boolean {
    if (this.holdsAlone(task)) return false;
    const flat = this.flatRingFor(task);
    if (flat) return pushTo(flat, task, hotMax);
    const line = this.levelOf(task).line(task.fairnessKey ?? "");
    line.entries++;
    return pushTo(line.ring(task.type), task, hotMax);
  }

  /**
   * At boot, before the task's whole row is read: lists a plain pending task as cold when its
   * line is full or already has cold tasks, as `push` with `hotMax` would (false: it belongs in
   * memory, and is pushed once read).
   */
  listCold(placement: ColdLine & ColdCandidate & { seq: number }, hotMax: number): boolean {
    // An empty queue keeps its first task in memory whatever the limit (see holdsAlone).
    if (this.isEmptyFlat()) return false;
    const flat = this.flatRingFor(placement);
    const line = flat ? undefined : this.levelOf(placement).line(placement.fairnessKey ?? "");
    if (!listInTail(flat ?? line!.ring(placement.type), placement, hotMax)) return false;
    if (line) line.entries++;
    return true;
  }

  /**
   * Takes a cold task back into memory at the back of its line (an operation named it by id):
   * false when it is not listed cold here.
   */
  readIn(task: LiveTask): boolean {
    const ring = this.levels ? this.levels[levelIndexOf(task)]?.lines.get(task.fairnessKey ?? "")?.byType.get(task.type) : this.soleRing;
    const tail = ring?.cold;
    if (ring === undefined || tail === undefined || !tail.holds(task) || !tail.remove(task.seq)) return false;
    // Counted in the line's entries while cold already.
    ring.push(task);
    if (tail.count === 0) ring.cold = undefined;
    return true;
  }

  /** Puts a task back at the front of its line (a redelivery keeps its place). */
  unshift(task: LiveTask): void {
    if (this.holdsAlone(task)) return;
    const flat = this.flatRingFor(task);
    if (flat) return flat.unshift(task);
    const line = this.levelOf(task).line(task.fairnessKey ?? "");
    line.ring(task.type).unshift(task);
    line.entries++;
  }

  /**
   * True when a pending task of one of `types` may be waiting, in memory or in the store. It
   * reads no store and removes nothing, so a stale entry (a task canceled while pending) can
   * answer true.
   */
  mayHoldAny(types: readonly string[]): boolean {
    if (!this.levels) {
      const type = (this.soleTask ?? this.soleRing?.peek())?.type ?? this.soleRing?.cold?.line.type;
      return type !== undefined && types.includes(type);
    }
    for (const level of this.levels) {
      if (!level) continue;
      for (const line of level.active) {
        for (const type of types) {
          const ring = line.byType.get(type);
          if (ring !== undefined && (ring.length > 0 || ring.cold !== undefined)) return true;
        }
      }
    }
    return false;
  }

  /** Removes up to `max` pending tasks of the given types, highest priority first, keys in weighted rotation. */
  take(types: readonly string[], max: number, policy: KeyPolicy, refill = NO_REFILL): LiveTask[] {
    if (!this.levels) return this.takeFlat(types, max, policy, refill);
    const taken: LiveTask[] = [];
    for (const level of this.levels) {
      if (!level) continue;
      while (taken.length < max) {
        const line = this.nextLine(level, types, policy, refill);
        if (!line) break;
        const task = line.oldest(types, refill)!.shift()!;
        line.entries--;
        if (!this.isLive(task)) continue;
        taken.push(task);
        policy.took(line.key);
        if (--level.credit <= 0) level.cursor++;
      }
      if (taken.length >= max) break;
    }
    return taken;
  }

  /** One line: FIFO, as long as the key's own rate limit allows. */
  private takeFlat(types: readonly string[], max: number, policy: KeyPolicy, refill: Refill): LiveTask[] {
    const taken: LiveTask[] = [];
    if (this.soleRing?.cold !== undefined) topUp(this.soleRing, refill);
    const head = this.soleTask ?? this.soleRing?.peek();
    if (head === undefined || max < 1 || !types.includes(head.type)) return taken;
    const key = head.fairnessKey ?? "";
    const lone = this.soleTask;
    if (lone !== undefined) {
      if (!policy.allows(key)) return taken;
      this.soleTask = undefined;
      if (this.isLive(lone)) {
        taken.push(lone);
        policy.took(key);
      }
      return taken;
    }
    const ring = this.soleRing!;
    while (taken.length < max && ring.length > 0 && policy.allows(key)) {
      const task = ring.shift()!;
      if (ring.cold !== undefined) topUp(ring, refill);
      if (!this.isLive(task)) continue;
      taken.push(task);
      policy.took(key);
    }
    return taken;
  }

  /** Keeps the task as the queue's lone entry when the queue is flat and empty. */
  private holdsAlone(task: LiveTask): boolean {
    if (!this.isEmptyFlat()) return false;
    this.soleTask = task;
    return true;
  }

  /** Flat and holding nothing, in memory or in the store. */
  private isEmptyFlat(): boolean {
    const ring = this.soleRing;
    return !this.levels && this.soleTask === undefined && (ring === undefined || (ring.length === 0 && ring.cold === undefined));
  }

  /** The flat ring a task goes to, or undefined once the queue has (or now needs) levels. */
  private flatRingFor(task: LineKey): TaskRing | undefined {
    if (this.levels) return undefined;
    const ring = (this.soleRing ??= new TaskRing(SOLE_RING_CAPACITY));
    if (this.soleTask !== undefined) {
      // A second entry: the lone one goes into the ring first (a pushed task goes behind it,
      // an unshifted one in front).
      ring.push(this.soleTask);
      this.soleTask = undefined;
    }
    const head = ring.peek();
    const cold = ring.cold;
    if (head === undefined ? cold === undefined || sameLine(cold.line, task) : sameLine(head, task)) return ring;
    // A second kind of entry: the ring becomes the first line of the general structure.
    const levels = (this.levels = new Array<Level | undefined>(PRIORITY_LEVELS));
    const first = head ?? cold!.line;
    const line = (levels[levelIndexOf(first)] = new Level()).line(first.fairnessKey ?? "");
    line.byType.set(first.type, ring);
    line.entries = ring.length + (cold?.count ?? 0);
    this.soleRing = undefined;
    return undefined;
  }

  private isLive(task: LiveTask): boolean {
    return !task.gone && task.state === "pending" && task.queue === this.queueName;
  }

  /** Every ring with its level index, key and type (the flat entries, or each line's). */
  private *rings(): Generator<[level: number, key: string, type: string, ring: TaskRing]> {
    if (!this.levels) {
      let ring = this.soleRing;
      if (this.soleTask !== undefined) {
        ring = new TaskRing(1);
        ring.push(this.soleTask);
      }
      const first = ring?.peek() ?? ring?.cold?.line;
      if (ring && first) yield [levelIndexOf(first), first.fairnessKey ?? "", first.type, ring];
      return;
    }
    for (const [index, level] of this.levels.entries()) {
      for (const line of level?.active ?? []) {
        for (const [type, ring] of line.byType.entries()) yield [index, line.key, type, ring];
      }
    }
  }

  /** The key whose turn it is and that has a task of `types`; drops keys that ran empty. */
  private nextLine(level: Level, types: readonly string[], policy: KeyPolicy, refill: Refill): KeyLine | undefined {
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
      if (line.oldest(types, refill) !== undefined && policy.allows(line.key)) {
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
    for (const [index, key, type, ring] of this.rings()) {
      let live = ring.cold?.count ?? 0;
      ring.forEach((task) => {
        if (this.isLive(task)) live++;
      });
      if (live === 0) continue;
      census.byLevel[index]! += live;
      census.byKey.set(key, (census.byKey.get(key) ?? 0) + live);
      census.byType.set(type, (census.byType.get(type) ?? 0) + live);
    }
    return census;
  }

  /** Pending tasks that wait in the store only (see cold-tail.ts): O(lines). */
  coldCount(): number {
    let cold = 0;
    for (const [, , , ring] of this.rings()) cold += ring.cold?.count ?? 0;
    return cold;
  }

  /** The oldest `readyAt` among ring heads: the age of the queue's oldest pending task. */
  oldestReadyAt(): number | undefined {
    let oldest: number | undefined;
    for (const [, , , ring] of this.rings()) {
      const head = ring.peek();
      if (head && this.isLive(head) && head.readyAt !== undefined && (oldest === undefined || head.readyAt < oldest)) oldest = head.readyAt;
    }
    return oldest;
  }

  private levelOf(task: LineKey): Level {
    return (this.levels![levelIndexOf(task)] ??= new Level());
  }
}

/** Tasks of one line share a priority level, fairness key and type. */
function sameLine(a: LineKey, b: LineKey): boolean {
  return a.type === b.type && (a.fairnessKey ?? "") === (b.fairnessKey ?? "") && levelIndexOf(a) === levelIndexOf(b);
}

/** Index 0 = priority 1. */
function levelIndexOf(task: { priority: number }): number {
  return Math.min(PRIORITY_LEVELS, Math.max(1, task.priority)) - 1;
}
