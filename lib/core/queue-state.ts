/**
 * One task queue in memory: its ready lines, the polls parked on it, the workers polling it,
 * its settings (pause, rate limit, fairness weights) and live counts. A queue exists as soon as
 * anything names it and leaves memory when nothing live refers to it (final counts live in the
 * store), so memory is bounded by what is live, not by how many queues ever existed.
 */
import { PollerRegistry, type PollerInfo } from "./poller-registry.ts";
import { RecentCounter } from "./recent-counter.ts";
import { ReadyLines, type KeyPolicy, type PendingCensus } from "./ready-lines.ts";
import type { FinalTaskState, LiveTask, LiveTaskState } from "./task-state.ts";
import { defaultBurst, TokenBucket, type RateLimit } from "./token-bucket.ts";

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

export type LiveCounts = Record<LiveTaskState, number>;

export interface FairnessSetting {
  weight: number;
  ratePerSecond: number | undefined;
}

/** Persisted settings of a queue. */
export interface QueueSettings {
  paused: boolean;
  limit: RateLimit | undefined;
  fairness: ReadonlyMap<string, FairnessSetting>;
}

export type LimitSource = "admin" | "poller" | "none";

export interface EffectiveLimit {
  limit: RateLimit | undefined;
  source: LimitSource;
  declaredBy?: string | undefined;
}

/** Shared empty stand-ins, replaced by real maps on first write. */
const NO_PARKED: Map<number, ParkedPoller> = new Map();
const NO_FAIRNESS: Map<string, FairnessSetting> = new Map();
const NO_BUCKETS: Map<string, TokenBucket> = new Map();

/**
 * What most queues never have: parked polls, pollers, a dispatch counter, settings. Made at
 * the first write (see `QueueState.more`), so a queue that only holds tasks stays small.
 */
class QueueExtras {
  /** Parked polls in arrival order (Map keeps insertion order): first come, first served. */
  parked: Map<number, ParkedPoller> = NO_PARKED;
  dispatched: RecentCounter | undefined;
  pollers: PollerRegistry | undefined;
  paused = false;
  adminLimit: RateLimit | undefined;
  /** Fairness weights and per-key limits (rarely set, so a shared empty map until then). */
  fairness: Map<string, FairnessSetting> = NO_FAIRNESS;
  bucket: TokenBucket | undefined;
  keyBuckets: Map<string, TokenBucket> = NO_BUCKETS;
  /**
   * Pending tasks by fairness key (tasks without a key are not counted): a queue blocked by
   * per-key rate limits asks at every wake which limited keys have backlog, and a census of
   * the rings is O(pending) (200,000 pending over 10 keys at 20/s each: 16 % of a core to
   * dispatch 200 tasks a second).
   */
  pendingByKey: Map<string, number> | undefined;
  /** Totals since the process started, for metrics (enqueued is on the queue itself). */
  dispatchedTotal = 0;
  completedTotal = 0;
  failedTotal = 0;
}

export class QueueState {
  // Eight fields: JavaScriptCore sizes an object by its field count (7-8 fields 72 bytes,
  // 9-12 fields 104, 13-18 fields 152), and W5 keeps 100,000 queues holding one task each.
  // The live counts are fields, not an object of their own; what only a queue with workers
  // or settings has (dispatches, ends, polls, limits) waits in `extras`.
  readonly ready: ReadyLines;
  /** Live tasks by state. */
  scheduled = 0;
  pending = 0;
  running = 0;
  /** Tasks enqueued since the process started, for metrics. */
  enqueuedTotal = 0;
  readonly added = new RecentCounter();
  private extras: QueueExtras | undefined;

  constructor(readonly name: string) {
    this.ready = new ReadyLines(name);
  }

  private more(): QueueExtras {
    return (this.extras ??= new QueueExtras());
  }

  /** Counts a task entering (+1) or leaving (-1) a live state. */
  count(task: Pick<LiveTask, "fairnessKey">, state: LiveTaskState, delta: 1 | -1): void {
    this[state] += delta;
    // Kept this small: it is inlined into every dispatch and enqueue.
    if (state === "pending" && task.fairnessKey !== undefined) this.countKey(task.fairnessKey, delta);
  }

  private countKey(key: string, delta: 1 | -1): void {
    const byKey = (this.more().pendingByKey ??= new Map());
    const left = (byKey.get(key) ?? 0) + delta;
    if (left === 0) byKey.delete(key);
    else byKey.set(key, left);
  }

  /** Uncounts `n` pending tasks that left without notice (cold tasks the store no longer holds pending). */
  forgetPending(fairnessKey: string | undefined, n: number): void {
    this.pending -= n;
    if (fairnessKey === undefined) return;
    const byKey = this.more().pendingByKey;
    const left = (byKey?.get(fairnessKey) ?? 0) - n;
    if (left <= 0) byKey?.delete(fairnessKey);
    else byKey?.set(fairnessKey, left);
  }

  /** Pending tasks with fairness key `key` (a non-empty key; O(1)). */
  pendingOfKey(key: string): number {
    return this.extras?.pendingByKey?.get(key) ?? 0;
  }

  /** Live counts by state (a new object: for describe and metrics). */
  get counts(): LiveCounts {
    return { scheduled: this.scheduled, pending: this.pending, running: this.running };
  }

  /** Totals since the process started (a new object: for metrics). */
  get totals(): { enqueued: number; dispatched: number; completed: number; failed: number } {
    const extras = this.extras;
    return { enqueued: this.enqueuedTotal, dispatched: extras?.dispatchedTotal ?? 0, completed: extras?.completedTotal ?? 0, failed: extras?.failedTotal ?? 0 };
  }

  /** A task of this queue was leased to a worker. */
  countDispatch(now: number): void {
    const extras = this.more();
    (extras.dispatched ??= new RecentCounter()).add(now);
    extras.dispatchedTotal++;
  }

  /** A task of this queue ended: completed, or failed or timed out (a cancel counts in neither). */
  countEnd(state: FinalTaskState): void {
    if (state === "completed") this.more().completedTotal++;
    else if (state === "failed" || state === "timed_out") this.more().failedTotal++;
  }

  /** Tasks added and dispatched in the last minute at `now`, for describe. */
  lastMinute(now: number): { added: number; dispatched: number } {
    return { added: this.added.total(now), dispatched: this.extras?.dispatched?.total(now) ?? 0 };
  }

  /** The workers that polled this queue lately (no registry is made for a queue never polled). */
  livePollers(now: number): PollerInfo[] {
    return this.extras?.pollers?.live(now) ?? [];
  }

  /** The workers polling this queue, to record polls (the registry is made at the first). */
  get pollers(): PollerRegistry {
    const extras = this.more();
    return (extras.pollers ??= new PollerRegistry());
  }

  /** Parked polls in arrival order (a shared empty map until the first one). */
  get parked(): ReadonlyMap<number, ParkedPoller> {
    return this.extras?.parked ?? NO_PARKED;
  }

  get paused(): boolean {
    return this.extras?.paused ?? false;
  }

  set paused(paused: boolean) {
    if (paused || this.extras) this.more().paused = paused;
  }

  get adminLimit(): RateLimit | undefined {
    return this.extras?.adminLimit;
  }

  set adminLimit(limit: RateLimit | undefined) {
    if (limit || this.extras) this.more().adminLimit = limit;
  }

  /** Fairness weights and per-key limits. */
  get fairness(): ReadonlyMap<string, FairnessSetting> {
    return this.extras?.fairness ?? NO_FAIRNESS;
  }

  /** Parks a poll (allocating the map on the first one: most queues never see a parked poll). */
  addParked(poller: ParkedPoller): void {
    const extras = this.more();
    if (extras.parked === NO_PARKED) extras.parked = new Map();
    extras.parked.set(poller.id, poller);
  }

  /** Removes a parked poll (answered, timed out or gone). */
  removeParked(pollerId: number): void {
    this.extras?.parked.delete(pollerId);
  }

  /** Pending tasks by level, key and type (computed on demand: describe and explain are rare). */
  pendingCensus(): PendingCensus {
    return this.ready.census();
  }

  /** The rate limit in force: an admin's, else the lowest one declared by a live poller. */
  effectiveLimit(now: number): EffectiveLimit {
    if (this.adminLimit) return { limit: this.adminLimit, source: "admin" };
    let lowest: { rate: number; identity: string } | undefined;
    for (const poller of this.livePollers(now)) {
      if (poller.declaredRate !== undefined && (!lowest || poller.declaredRate < lowest.rate)) lowest = { rate: poller.declaredRate, identity: poller.identity };
    }
    if (!lowest) return { limit: undefined, source: "none" };
    return { limit: { ratePerSecond: lowest.rate, burst: defaultBurst(lowest.rate) }, source: "poller", declaredBy: lowest.identity };
  }

  /** Brings the queue's token bucket in line with the effective limit. */
  refreshLimit(now: number): void {
    const { limit } = this.effectiveLimit(now);
    if (!limit) {
      if (this.extras) this.extras.bucket = undefined;
      return;
    }
    const extras = this.more();
    if (!extras.bucket) extras.bucket = new TokenBucket(limit, now);
    else if (extras.bucket.rate.ratePerSecond !== limit.ratePerSecond || extras.bucket.rate.burst !== limit.burst) extras.bucket.setLimit(limit, now);
  }

  /** Whole dispatch tokens available now (Infinity without a limit). */
  tokens(now: number): number {
    const bucket = this.extras?.bucket;
    return bucket ? bucket.available(now) : Infinity;
  }

  takeToken(now: number): void {
    this.extras?.bucket?.take(1, now);
  }

  /** When a blocked queue can dispatch again (rate limits only), or undefined if it is not blocked by one. */
  nextTokenAt(now: number): number | undefined {
    const extras = this.extras;
    if (!extras) return undefined;
    let next: number | undefined;
    if (extras.bucket && extras.bucket.available(now) < 1) next = extras.bucket.nextTokenAt(now);
    if (extras.keyBuckets.size > 0) {
      for (const [key, bucket] of extras.keyBuckets) {
        if (this.pendingOfKey(key) > 0 && bucket.available(now) < 1) next = Math.min(next ?? Infinity, bucket.nextTokenAt(now));
      }
    }
    return next;
  }

  /** The rotation's view of fairness settings and per-key rate limits at `now`. */
  keyPolicy(now: number): KeyPolicy {
    const fairness = this.fairness;
    const keyBuckets = this.extras?.keyBuckets ?? NO_BUCKETS;
    return {
      weight: (key) => fairness.get(key)?.weight ?? 1,
      allows: (key) => (keyBuckets.get(key)?.available(now) ?? 1) >= 1,
      took: (key) => keyBuckets.get(key)?.take(1, now),
    };
  }

  setFairness(key: string, setting: FairnessSetting | undefined, now: number): void {
    const extras = this.more();
    if (extras.fairness === NO_FAIRNESS) extras.fairness = new Map();
    if (extras.keyBuckets === NO_BUCKETS) extras.keyBuckets = new Map();
    if (!setting || (setting.weight === 1 && setting.ratePerSecond === undefined)) extras.fairness.delete(key);
    else extras.fairness.set(key, setting);
    const rate = setting?.ratePerSecond;
    if (rate === undefined) extras.keyBuckets.delete(key);
    else {
      const limit = { ratePerSecond: rate, burst: defaultBurst(rate) };
      const bucket = extras.keyBuckets.get(key);
      if (bucket) bucket.setLimit(limit, now);
      else extras.keyBuckets.set(key, new TokenBucket(limit, now));
    }
  }

  settings(): QueueSettings {
    return { paused: this.paused, limit: this.adminLimit, fairness: this.fairness };
  }

  /** Settings that must survive in memory even with nothing live (they are also persisted). */
  hasSettings(): boolean {
    return this.paused || this.adminLimit !== undefined || this.fairness.size > 0;
  }

  /** True when nothing live refers to this queue: it can leave memory. */
  isIdle(now: number): boolean {
    return this.scheduled === 0 && this.pending === 0 && this.running === 0 && this.parked.size === 0 && !this.hasSettings() && this.livePollers(now).length === 0;
  }
}
