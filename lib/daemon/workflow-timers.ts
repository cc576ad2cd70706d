/**
 * The durable timers of workflows in memory: one deadline heap and a loop that sleeps until the
 * earliest one, then hands what is due to the engine (which commits `timer.fired`). Entries are
 * checked by the engine on pop (lazy deletion), like the task timers of the core.
 */
import type { Clock } from "../clock/clock.ts";
import { DeadlineHeap, type DeadlineEntry } from "../core/index.ts";

export interface TimerKey {
  workflowId: string;
  seq: number;
}

const IDLE_SLEEP_MS = 60_000;

export class WorkflowTimers {
  private readonly heap = new DeadlineHeap<TimerKey>();
  private stopping = false;
  private wake = new AbortController();
  private sleepUntil = Infinity;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    /** Fires what is due at `now` (pop with `popDue`). */
    private readonly fireDue: (now: number) => Promise<void>,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await this.loop;
  }

  /** Arms a timer; wakes the loop early if it is now the earliest. */
  push(at: number, key: TimerKey): void {
    this.heap.push(at, key);
    if (at < this.sleepUntil) {
      this.sleepUntil = at;
      this.wake.abort();
    }
  }

  popDue(now: number): DeadlineEntry<TimerKey> | undefined {
    return this.heap.popDue(now);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const now = this.clock.now();
      await this.fireDue(now);
      const next = this.heap.peekAt();
      const waitMs = next === undefined ? IDLE_SLEEP_MS : Math.max(0, next - now);
      this.wake = new AbortController();
      this.sleepUntil = now + waitMs;
      await this.clock.sleep(waitMs, this.wake.signal);
    }
  }
}
