/**
 * One task queue in memory: its ready lines, the polls parked on it, the workers polling it,
 * its settings (pause, rate limit, fairness weights) and live counts. A queue exists as soon as
 * anything names it and leaves memory when nothing live refers to it (final counts live in the
 * store), so memory is bounded by what is live, not by how many queues ever existed.
 */
import { PollerRegistry } from "./poller-registry.ts";
import { RecentCounter } from "./recent-counter.ts";
import { ReadyLines, type KeyPolicy, type PendingCensus } from "./ready-lines.ts";
import type { LiveTask, LiveTaskState } from "./task-state.ts";
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

export class QueueState {
  readonly ready: ReadyLines;
  /** Parked polls in arrival order (Map keeps insertion order): first come, first served. */
  parked: Map<number, ParkedPoller> = NO_PARKED;
  // Counts and totals are fields of the queue, not objects of their own, and the pollers and
  // the dispatch counter are made on first use: a queue holding one task is about 600 bytes
  // of heap (W5 keeps 100,000 of them).
  /** Live tasks by state. */
  scheduled = 0;
  pending = 0;
  running = 0;
  /** Totals since the process started, for metrics. */
  enqueuedTotal = 0;
  dispatchedTotal = 0;
  completedTotal = 0;
  failedTotal = 0;
  readonly added = new RecentCounter();
  private dispatchedRecent: RecentCounter | undefined;
  private pollerRegistry: PollerRegistry | undefined;
  paused = false;
  adminLimit: RateLimit | undefined;
  /** Fairness weights and per-key limits (rarely set, so a shared empty map until then). */
  fairness: Map<string, FairnessSetting> = NO_FAIRNESS;
  private bucket: TokenBucket | undefined;
  private keyBuckets: Map<string, TokenBucket> = NO_BUCKETS;

  constructor(readonly name: string) {
    this.ready = new ReadyLines(name);
  }

  /** Counts a task entering (+1) or leaving (-1) a live state. */
  count(_task: LiveTask, state: LiveTaskState, delta: 1 | -1): void {
    this[state] += delta;
  }

  /** Live counts by state (a new object: for describe and metrics). */
  get counts(): LiveCounts {
    return { scheduled: this.scheduled, pending: this.pending, running: this.running };
  }

  /** Totals since the process started (a new object: for metrics). */
  get totals(): { enqueued: number; dispatched: number; completed: number; failed: number } {
    return { enqueued: this.enqueuedTotal, dispatched: this.dispatchedTotal, completed: this.completedTotal, failed: this.failedTotal };
  }

  /** Dispatches in the last minute (the counter is made at the first dispatch). */
  get dispatched(): RecentCounter {
    return (this.dispatchedRecent ??= new RecentCounter());
  }

  /** The workers polling this queue (the registry is made at the first poll). */
  get pollers(): PollerRegistry {
    return (this.pollerRegistry ??= new PollerRegistry());
  }

  /** Parks a poll (allocating the map on the first one: most queues never see a parked poll). */
  addParked(poller: ParkedPoller): void {
    if (this.parked === NO_PARKED) this.parked = new Map();
    this.parked.set(poller.id, poller);
  }

  /** Pending tasks by level, key and type (computed on demand: describe and explain are rare). */
  pendingCensus(): PendingCensus {
    return this.ready.census();
  }

  /** The rate limit in force: an admin's, else the lowest one declared by a live poller. */
  effectiveLimit(now: number): EffectiveLimit {
    if (this.adminLimit) return { limit: this.adminLimit, source: "admin" };
    let lowest: { rate: number; identity: string } | undefined;
    for (const poller of this.pollerRegistry?.live(now) ?? []) {
      if (poller.declaredRate !== undefined && (!lowest || poller.declaredRate < lowest.rate)) lowest = { rate: poller.declaredRate, identity: poller.identity };
    }
    if (!lowest) return { limit: undefined, source: "none" };
    return { limit: { ratePerSecond: lowest.rate, burst: defaultBurst(lowest.rate) }, source: "poller", declaredBy: lowest.identity };
  }

  /** Brings the queue's token bucket in line with the effective limit. */
  refreshLimit(now: number): void {
    const { limit } = this.effectiveLimit(now);
    if (!limit) this.bucket = undefined;
    else if (!this.bucket) this.bucket = new TokenBucket(limit, now);
    else if (this.bucket.rate.ratePerSecond !== limit.ratePerSecond || this.bucket.rate.burst !== limit.burst) this.bucket.setLimit(limit, now);
  }

  /** Whole dispatch tokens available now (Infinity without a limit). */
  tokens(now: number): number {
    return this.bucket ? this.bucket.available(now) : Infinity;
  }

  takeToken(now: number): void {
    this.bucket?.take(1, now);
  }

  /** When a blocked queue can dispatch again (rate limits only), or undefined if it is not blocked by one. */
  nextTokenAt(now: number): number | undefined {
    let next: number | undefined;
    if (this.bucket && this.bucket.available(now) < 1) next = this.bucket.nextTokenAt(now);
    if (this.keyBuckets.size > 0) {
      const byKey = this.ready.census().byKey;
      for (const [key, bucket] of this.keyBuckets) {
        if ((byKey.get(key) ?? 0) > 0 && bucket.available(now) < 1) next = Math.min(next ?? Infinity, bucket.nextTokenAt(now));
      }
    }
    return next;
  }

  /** The rotation's view of fairness settings and per-key rate limits at `now`. */
  keyPolicy(now: number): KeyPolicy {
    return {
      weight: (key) => this.fairness.get(key)?.weight ?? 1,
      allows: (key) => (this.keyBuckets.get(key)?.available(now) ?? 1) >= 1,
      took: (key) => this.keyBuckets.get(key)?.take(1, now),
    };
  }

  setFairness(key: string, setting: FairnessSetting | undefined, now: number): void {
    if (this.fairness === NO_FAIRNESS) this.fairness = new Map();
    if (this.keyBuckets === NO_BUCKETS) this.keyBuckets = new Map();
    if (!setting || (setting.weight === 1 && setting.ratePerSecond === undefined)) this.fairness.delete(key);
    else this.fairness.set(key, setting);
    const rate = setting?.ratePerSecond;
    if (rate === undefined) this.keyBuckets.delete(key);
    else {
      const limit = { ratePerSecond: rate, burst: defaultBurst(rate) };
      const bucket = this.keyBuckets.get(key);
      if (bucket) bucket.setLimit(limit, now);
      else this.keyBuckets.set(key, new TokenBucket(limit, now));
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
    const noPollers = this.pollerRegistry === undefined || this.pollerRegistry.live(now).length === 0;
    return this.scheduled === 0 && this.pending === 0 && this.running === 0 && this.parked.size === 0 && !this.hasSettings() && noPollers;
  }
}

