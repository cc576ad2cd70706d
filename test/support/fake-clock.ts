/**
 * A Clock whose time moves only when a test calls `advance`. Sleeps resolve in due-time order,
 * each with `now()` set to its due time, and the promise jobs they trigger run before the next
 * one fires, so code that sleeps again inside the advanced window is woken in the same call.
 */
import type { Clock } from "../../lib/clock/clock.ts";

interface Sleeper {
  dueMs: number;
  /** Creation order: breaks ties between sleepers due at the same time. */
  order: number;
  wake(): void;
}

export class FakeClock implements Clock {
  private nowMs: number;
  private sleepers: Sleeper[] = [];
  private created = 0;
  private readonly sleepWaiters = new Set<() => void>();

  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        dueMs: this.nowMs + Math.max(0, ms),
        order: this.created++,
        wake: () => {
          this.sleepers = this.sleepers.filter((other) => other !== sleeper);
          signal?.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
      for (const notify of [...this.sleepWaiters]) notify();
    });
  }

  /** Sleeps not yet woken. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Resolves once at least `count` sleeps are pending (e.g. a loop reached its backoff). */
  async untilSleeping(count = 1): Promise<void> {
    while (this.sleepers.length < count) {
      await new Promise<void>((resolve) => {
        const notify = () => {
          this.sleepWaiters.delete(notify);
          resolve();
        };
        this.sleepWaiters.add(notify);
      });
    }
  }

  /** Moves time forward by `ms`, waking every sleep due by then, in order. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (;;) {
      await settlePromiseJobs();
      const next = this.nextDue(targetMs);
      if (!next) break;
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.wake();
    }
    this.nowMs = targetMs;
    await settlePromiseJobs();
  }

  private nextDue(limitMs: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const sleeper of this.sleepers) {
      if (sleeper.dueMs > limitMs) continue;
      if (!best || sleeper.dueMs < best.dueMs || (sleeper.dueMs === best.dueMs && sleeper.order < best.order)) best = sleeper;
    }
    return best;
  }
}

// One macrotask turn: every promise job queued so far (and those they queue) runs first.
function settlePromiseJobs(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
