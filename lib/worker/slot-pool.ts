/**
 * The worker's concurrency cap, shared by the poll loops of all its queues. A loop reserves free
 * slots before it polls (so a poll never asks for more tasks than can run), returns the ones the
 * poll did not fill, and each task returns its slot when it has been reported.
 */
export class SlotPool {
  /** Slots reserved by pending polls plus slots held by running tasks. */
  private inUse = 0;
  private readonly wakeups = new Set<() => void>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`slot capacity must be a whole number >= 1, got ${capacity}`);
  }

  get free(): number {
    return Math.max(0, this.capacity - this.inUse);
  }

  get used(): number {
    return this.inUse;
  }

  /**
   * Waits until at least one slot is free, then takes up to `max`. Returns 0 (taking nothing)
   * once `signal` is aborted.
   */
  async reserve(max: number, signal: AbortSignal): Promise<number> {
    while (this.free === 0 && !signal.aborted) await this.nextRelease(signal);
    if (signal.aborted) return 0;
    const taken = Math.min(Math.max(1, max), this.free);
    this.inUse += taken;
    return taken;
  }

  /** Returns `count` slots and wakes every waiting loop; the first to run takes them. */
  release(count: number): void {
    if (count <= 0) return;
    this.inUse = Math.max(0, this.inUse - count);
    for (const wake of [...this.wakeups]) wake();
  }

  /**
   * Counts `count` slots as used without waiting, for tasks a server handed out beyond what was
   * asked. The pool may then sit above capacity until they finish; polls wait until it is not.
   */
  adopt(count: number): void {
    if (count > 0) this.inUse += count;
  }

  private nextRelease(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakeups.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.wakeups.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}
