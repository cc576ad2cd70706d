/**
 * The promises behind long-polls. `PollWaiters` holds parked polls until the core assigns them
 * tasks or their time runs out; `TaskWaiters` holds `GET /v1/tasks/{id}?waitMs` requests until
 * the task is final. Time is the injected clock's, so tests expire waits without sleeping.
 */
import type { Clock } from "../clock/clock.ts";
import type { LiveTask } from "../core/index.ts";

interface ParkedPoll {
  resolve(tasks: LiveTask[]): void;
  timer: AbortController;
  /** Ends the poll empty unless tasks are already on the way (time-out, abort, `leave`). */
  giveUp(): void;
}

/**
 * How long the server remembers that a worker left a queue, in ms: a poll of that worker sent
 * before it left but arriving after is answered at once instead of parking. One poll per
 * worker and queue is in flight at most, so the first such poll uses the memory up.
 */
export const DEPARTURE_MEMORY_MS = 10_000;

export class PollWaiters {
  private readonly parked = new Map<number, ParkedPoll>();
  /** `pollerKey` -> epoch ms of its `leave`, oldest first; dropped by its next poll, or once older than DEPARTURE_MEMORY_MS. */
  private readonly departed = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.parked.size;
  }

  /**
   * Waits for `deliver(pollerId, ...)`, or `waitMs`, or `signal` (client gone), or
   * `leave(...)` (its worker left). On time-out, abort or leave, `unpark` must return true for
   * the poll to end empty; false means tasks are on the way.
   */
  wait(pollerId: number, waitMs: number, unpark: () => boolean, signal?: AbortSignal): Promise<LiveTask[]> {
    return new Promise((resolve) => {
      const timer = new AbortController();
      const giveUp = () => {
        if (!this.parked.has(pollerId) || !unpark()) return;
        this.parked.delete(pollerId);
        timer.abort();
        resolve([]);
      };
      this.parked.set(pollerId, { resolve, timer, giveUp });
      signal?.addEventListener("abort", giveUp, { once: true });
      void this.clock.sleep(waitMs, timer.signal).then(() => {
        if (!timer.signal.aborted) giveUp();
      });
    });
  }

  /** Answers a parked poll with its tasks. False if that poll is no longer waiting. */
  deliver(pollerId: number, tasks: LiveTask[]): boolean {
    const poll = this.parked.get(pollerId);
    if (!poll) return false;
    this.parked.delete(pollerId);
    poll.timer.abort();
    poll.resolve(tasks);
    return true;
  }

  /**
   * A worker left `queue`: answers `pollerIds` (its polls parked there) empty at once, and
   * remembers the departure so its poll still on the way does not park (see `departedJustNow`).
   */
  leave(queue: string, identity: string, pollerIds: readonly number[], now: number): void {
    for (const id of pollerIds) this.parked.get(id)?.giveUp();
    // Oldest first (a repeat moves to the end), so pruning stops at the first recent entry.
    for (const [key, at] of this.departed) {
      if (now - at < DEPARTURE_MEMORY_MS) break;
      this.departed.delete(key);
    }
    const key = pollerKey(queue, identity);
    this.departed.delete(key);
    this.departed.set(key, now);
  }

  /** True (once) if this worker left `queue` within DEPARTURE_MEMORY_MS: its poll must not park. */
  departedJustNow(queue: string, identity: string, now: number): boolean {
    if (this.departed.size === 0) return false;
    const key = pollerKey(queue, identity);
    const at = this.departed.get(key);
    if (at === undefined) return false;
    this.departed.delete(key);
    return now - at < DEPARTURE_MEMORY_MS;
  }

  /** Answers every parked poll with an empty list (shutdown). */
  releaseAll(): void {
    for (const id of [...this.parked.keys()]) this.deliver(id, []);
  }
}

function pollerKey(queue: string, identity: string): string {
  return `${queue}\u0000${identity}`;
}

export class TaskWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock) {}

  /** Reads waiting for a task to end, across all tasks. */
  get size(): number {
    let waiting = 0;
    for (const set of this.waiting.values()) waiting += set.size;
    return waiting;
  }

  /** Resolves when `notify(id)` is called or after `waitMs`, whichever is first. */
  async wait(id: string, waitMs: number, signal?: AbortSignal): Promise<void> {
    const timer = new AbortController();
    const wake = () => timer.abort();
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(wake);
    signal?.addEventListener("abort", wake, { once: true });
    try {
      await this.clock.sleep(waitMs, timer.signal);
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiting.delete(id);
      signal?.removeEventListener("abort", wake);
    }
  }

  notify(id: string): void {
    const set = this.waiting.get(id);
    if (set) for (const wake of [...set]) wake();
  }

  notifyAll(): void {
    for (const id of [...this.waiting.keys()]) this.notify(id);
  }
}
