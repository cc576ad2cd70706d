/**
 * Queue administration and visibility: pause, rate limits and fairness weights (persisted, in
 * force at once), the typo guard's memory of recent polls, describe, explain and the merged
 * queue listing (live counts from memory, final counts from the store).
 */
import type { Clock } from "../clock/clock.ts";
import {
  defaultBurst,
  explainTask,
  type Assignment,
  type DispatchCore,
  type EffectiveLimit,
  type Explanation,
  type FairnessSetting,
  type FinalTaskState,
  type LiveCounts,
  type PollerInfo,
  type QueueSettings,
  type RateLimit,
  type TaskRecord,
} from "../core/index.ts";
import type { StoreOp, StoredQueue, TaskStore } from "../store/index.ts";
import { AdminLock } from "./admin-lock.ts";

/** A queue no worker polled within this is probably misspelled (the typo guard). */
export const TYPO_GUARD_MS = 3_600_000;
/** Last-poll times are persisted at most once per window of this length per queue. */
const TOUCH_PERSIST_MS = 5 * 60_000;

export type FinalCounts = Record<FinalTaskState, number>;

export interface QueueListing extends LiveCounts, FinalCounts {
  name: string;
  pollersWaiting: number;
}

export interface QueueDescription {
  name: string;
  paused: boolean;
  counts: LiveCounts & FinalCounts;
  /** Age of the oldest pending task, ms. */
  oldestPendingAgeMs: number | undefined;
  /** Pending tasks that wait in the store only (a deep backlog, see lib/core/cold-tail.ts). */
  pendingInStore: number;
  lastMinute: { added: number; dispatched: number };
  limit: EffectiveLimit;
  adminLimit: RateLimit | undefined;
  pollers: PollerInfo[];
  pollerTypesDiffer: boolean;
  typesWithoutPoller: string[];
  fairness: { key: string; weight: number; ratePerSecond: number | undefined; pending: number }[];
}

export interface QueueAdminDeps {
  core: DispatchCore;
  store: TaskStore;
  clock: Clock;
  deliver(assignments: Assignment[]): void;
  commit(operation: string, ops: StoreOp[]): Promise<void>;
}

export class QueueAdmin {
  /** Queue -> epoch ms of its last poll, for queues polled within the typo-guard window. */
  private readonly lastPolled = new Map<string, number>();
  /** Settings changes read, commit and apply one at a time, so none overwrites another. */
  private readonly settingsLock = new AdminLock();

  constructor(private readonly deps: QueueAdminDeps) {}

  /** Remembers last-poll times loaded from the store. */
  restore(queues: readonly StoredQueue[], now: number): void {
    for (const queue of queues) {
      if (queue.lastPolledAt !== undefined && now - queue.lastPolledAt < TYPO_GUARD_MS) {
        this.lastPolled.set(queue.name, queue.lastPolledAt);
      }
    }
  }

  /**
   * Notes a poll; the first poll of a queue in each 5-minute window is staged to the store, so
   * the persisted time is never more than a window behind. (Deciding by window rather than by
   * the last persisted time needs no second map: 100,000 queues kept 6.8 MB in one.)
   */
  notePoll(queue: string, now: number): void {
    const previous = this.lastPolled.get(queue);
    this.lastPolled.set(queue, now);
    if (previous !== undefined && Math.floor(previous / TOUCH_PERSIST_MS) === Math.floor(now / TOUCH_PERSIST_MS)) return;
    // Losing it in a crash only forgets that the queue was polled: it rides along (see group-commit.ts).
    this.deps.store.stage([{ op: "queues.touchPolled", name: queue, at: now }], { rideAlong: true });
  }

  /** The typo guard's warning for an enqueue to `queue`, if no worker polled it lately. */
  warningFor(queue: string, now: number): string | undefined {
    const last = this.lastPolled.get(queue);
    if (last !== undefined && now - last < TYPO_GUARD_MS) return undefined;
    return `no worker has polled queue "${queue}" in the last hour; the task waits there (is the queue name right?)`;
  }

  /** Epoch ms of the queue's last poll within the typo-guard window. */
  lastPolledAt(queue: string): number | undefined {
    return this.lastPolled.get(queue);
  }

  /** Forgets last-poll times older than the typo-guard window. */
  prune(now: number): void {
    for (const [queue, at] of this.lastPolled) {
      if (now - at >= TYPO_GUARD_MS) {
        this.lastPolled.delete(queue);
      }
    }
  }

  setPaused(queue: string, paused: boolean): Promise<void> {
    return this.change(queue, (settings) => ({ ...settings, paused }), (now) => this.deps.core.setPaused(queue, paused, now));
  }

  setLimit(queue: string, limit: { ratePerSecond: number; burst?: number | undefined } | undefined): Promise<RateLimit | undefined> {
    const full = limit && { ratePerSecond: limit.ratePerSecond, burst: limit.burst ?? defaultBurst(limit.ratePerSecond) };
    return this.change(queue, (settings) => ({ ...settings, limit: full }), (now) => this.deps.core.setLimit(queue, full, now)).then(() => full);
  }

  async setFairness(queue: string, key: string, weight: number | undefined, ratePerSecond: number | null | undefined): Promise<FairnessSetting> {
    let next: FairnessSetting = { weight: 1, ratePerSecond: undefined };
    await this.change(
      queue,
      (settings) => {
        const current = settings.fairness.get(key);
        next = { weight: weight ?? current?.weight ?? 1, ratePerSecond: ratePerSecond === null ? undefined : (ratePerSecond ?? current?.ratePerSecond) };
        const fairness = new Map(settings.fairness);
        if (next.weight === 1 && next.ratePerSecond === undefined) fairness.delete(key);
        else fairness.set(key, next);
        return { ...settings, fairness };
      },
      (now) => this.deps.core.setFairness(queue, key, next.weight, next.ratePerSecond, now),
    );
    return next;
  }

  leave(queue: string, identity: string): boolean {
    return this.deps.core.leave(queue, identity, this.deps.clock.now());
  }

  /** Live counts from memory and final counts from the store, merged by queue name. */
  list(prefix: string): QueueListing[] {
    const byName = new Map<string, QueueListing>();
    const entry = (name: string) => {
      let listing = byName.get(name);
      if (!listing) byName.set(name, (listing = { name, ...emptyLive(), ...emptyFinal(), pollersWaiting: 0 }));
      return listing;
    };
    for (const live of this.deps.core.queueCounts(prefix)) Object.assign(entry(live.name), live);
    for (const row of this.deps.store.finalCounts(prefix)) entry(row.queue)[row.state] = row.count;
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  describe(queue: string): QueueDescription {
    const now = this.deps.clock.now();
    const state = this.deps.core.peekQueue(queue);
    const final = emptyFinal();
    for (const row of this.deps.store.finalCountsOf(queue)) final[row.state] = row.count;
    const pollers = state ? state.livePollers(now) : [];
    const handled = new Set(pollers.flatMap((poller) => poller.types));
    const typeSets = new Set(pollers.map((poller) => [...poller.types].sort().join("\u0000")));
    const census = state?.pendingCensus();
    const keys = new Set([...(census?.byKey.keys() ?? []), ...(state?.fairness.keys() ?? [])]);
    const oldest = state?.ready.oldestReadyAt();
    return {
      name: queue,
      paused: state?.paused ?? false,
      counts: { ...(state?.counts ?? emptyLive()), ...final },
      oldestPendingAgeMs: oldest === undefined ? undefined : Math.max(0, now - oldest),
      pendingInStore: state?.ready.coldCount() ?? 0,
      lastMinute: state?.lastMinute(now) ?? { added: 0, dispatched: 0 },
      limit: state ? state.effectiveLimit(now) : { limit: undefined, source: "none" },
      adminLimit: state?.adminLimit,
      pollers,
      pollerTypesDiffer: typeSets.size > 1,
      typesWithoutPoller: [...(census?.byType.keys() ?? [])].filter((type) => !handled.has(type)).sort(),
      fairness: [...keys].sort().map((key) => ({
        key,
        weight: state?.fairness.get(key)?.weight ?? 1,
        ratePerSecond: state?.fairness.get(key)?.ratePerSecond,
        pending: census?.byKey.get(key) ?? 0,
      })),
    };
  }

  explain(record: TaskRecord): Explanation {
    return explainTask(record, this.deps.core.peekQueue(record.queue), this.deps.clock.now());
  }

  /** Persists a settings change, then applies it (plan -> commit -> apply). */
  private change(queue: string, update: (settings: QueueSettings) => QueueSettings, apply: (now: number) => Assignment[]): Promise<void> {
    return this.settingsLock.run(async () => {
      const current = this.deps.core.settingsOf(queue) ?? { paused: false, limit: undefined, fairness: new Map() };
      await this.deps.commit("queue settings", [{ op: "queues.saveSettings", name: queue, settings: update(current) }]);
      this.deps.deliver(apply(this.deps.clock.now()));
    });
  }
}

function emptyLive(): LiveCounts {
  return { scheduled: 0, pending: 0, running: 0 };
}

function emptyFinal(): FinalCounts {
  return { completed: 0, failed: 0, canceled: 0, timed_out: 0 };
}
