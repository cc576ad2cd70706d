/**
 * The workers polling one queue, as describe shows them. A poller is live while one of its polls
 * is parked, or until twice its long-poll time has passed since its last poll (so a killed
 * worker disappears within 2 x the long-poll time); a worker that stops gracefully says so and
 * disappears at once. Memory is bounded by the live pollers: dead ones are pruned.
 */
export interface PollerInfo {
  identity: string;
  host: string | undefined;
  types: readonly string[];
  /** The `max` of its last poll: the worker's free slots then. */
  freeSlots: number;
  /** Epoch ms of its last poll. */
  lastSeen: number;
  /** The long-poll time of its last poll. */
  waitMs: number;
  /** A queue rate the worker declared (tasks per second). */
  declaredRate: number | undefined;
  /** Polls of this worker parked right now. */
  parked: number;
}

/** Shortest liveness window, so a worker polling with waitMs 0 does not flicker. */
const MIN_LIVENESS_MS = 2_000;

export class PollerRegistry {
  /** Allocated on the first poll: a queue nobody polls carries no map. */
  private pollers: Map<string, PollerInfo> | undefined;

  /** Records a poll; returns true when the set of live pollers (or their rates) changed. */
  seen(poll: Omit<PollerInfo, "parked" | "lastSeen">, now: number): boolean {
    const pollers = (this.pollers ??= new Map());
    const known = pollers.get(poll.identity);
    const changed = !known || known.declaredRate !== poll.declaredRate || known.types.join() !== poll.types.join();
    pollers.set(poll.identity, { ...poll, lastSeen: now, parked: known?.parked ?? 0 });
    return changed;
  }

  parkedChanged(identity: string, delta: number, now: number): void {
    const poller = this.pollers?.get(identity);
    if (!poller) return;
    poller.parked = Math.max(0, poller.parked + delta);
    if (delta < 0) poller.lastSeen = now;
  }

  leave(identity: string): boolean {
    return this.pollers?.delete(identity) ?? false;
  }

  /** Live pollers, after pruning the dead ones. */
  live(now: number): PollerInfo[] {
    const live: PollerInfo[] = [];
    if (!this.pollers) return live;
    for (const [identity, poller] of this.pollers) {
      if (poller.parked > 0 || now - poller.lastSeen <= Math.max(MIN_LIVENESS_MS, 2 * poller.waitMs)) live.push(poller);
      else this.pollers.delete(identity);
    }
    return live;
  }

  get size(): number {
    return this.pollers?.size ?? 0;
  }
}
