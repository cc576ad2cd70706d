/**
 * One task queue in memory: its ready lines, the polls parked on it, the workers polling it,
 * its settings (pause, rate limit, fairness weights) and live counts. A queue exists as soon as
 * anything names it and leaves memory when nothing live refers to it (final counts live in the
 * store), so memory is bounded by what is live, not by how many queues ever existed.
 */
import { PollerRegistry } from "./poller-registry.ts";
import { RecentCounter } from "./recent-counter.ts";
import { PRIORITY_LEVELS, ReadyLines, type KeyPolicy } from "./ready-lines.ts";
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

export class QueueState {
  readonly ready = new ReadyLines();
  /** Parked polls in arrival order (Map keeps insertion order): first come, first served. */
  readonly parked = new Map<number, ParkedPoller>();
  readonly pollers = new PollerRegistry();
  readonly counts: LiveCounts = { scheduled: 0, pending: 0, running: 0 };
  /** Pending tasks by priority level (index 0 = priority 1), for explain. */
  readonly pendingByLevel = new Array<number>(PRIORITY_LEVELS).fill(0);
  /** Pending tasks by fairness key ("" = none). */
  readonly pendingByKey = new Map<string, number>();
  /** Pending tasks by task type, for "no live poller handles type T". */
  readonly pendingByType = new Map<string, number>();
  readonly added = new RecentCounter();
  readonly dispatched = new RecentCounter();
  /** Totals since the process started, for metrics. */
  readonly totals = { enqueued: 0, dispatched: 0, completed: 0, failed: 0 };
  paused = false;
  adminLimit: RateLimit | undefined;
  readonly fairness = new Map<string, FairnessSetting>();
  private bucket: TokenBucket | undefined;
  private readonly keyBuckets = new Map<string, TokenBucket>();

  constructor(readonly name: string) {}

  /** Counts a task entering (+1) or leaving (-1) a live state. */
  count(task: LiveTask, state: LiveTaskState, delta: 1 | -1): void {
    this.counts[state] += delta;
    if (state !== "pending") return;
    this.pendingByLevel[Math.min(PRIORITY_LEVELS, Math.max(1, task.priority)) - 1]! += delta;
    bump(this.pendingByKey, task.fairnessKey ?? "", delta);
    bump(this.pendingByType, task.type, delta);
  }

  /** The rate limit in force: an admin's, else the lowest one declared by a live poller. */
  effectiveLimit(now: number): EffectiveLimit {
    if (this.adminLimit) return { limit: this.adminLimit, source: "admin" };
    let lowest: { rate: number; identity: string } | undefined;
    for (const poller of this.pollers.live(now)) {
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
    for (const [key, bucket] of this.keyBuckets) {
      if ((this.pendingByKey.get(key) ?? 0) > 0 && bucket.available(now) < 1) next = Math.min(next ?? Infinity, bucket.nextTokenAt(now));
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
    const c = this.counts;
    return c.scheduled === 0 && c.pending === 0 && c.running === 0 && this.parked.size === 0 && !this.hasSettings() && this.pollers.live(now).length === 0;
  }
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}
