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
}

export class PollWaiters {
  private readonly parked = new Map<number, ParkedPoll>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.parked.size;
  }

  /**
   * Waits for `deliver(pollerId, ...)`, or `waitMs`, or `signal` (client gone). On time-out
   * or abort, `unpark` must return true for the poll to end empty; false means tasks are on the way.
   */
  wait(pollerId: number, waitMs: number, unpark: () => boolean, signal?: AbortSignal): Promise<LiveTask[]> {
    return new Promise((resolve) => {
      const timer = new AbortController();
      this.parked.set(pollerId, { resolve, timer });
      const giveUp = () => {
        if (!unpark()) return;
        this.parked.delete(pollerId);
        timer.abort();
        resolve([]);
      };
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

  /** Answers every parked poll with an empty list (shutdown). */
  releaseAll(): void {
    for (const id of [...this.parked.keys()]) this.deliver(id, []);
  }
}

export class TaskWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock) {}

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
