/**
 * The worker-local rate limit of `tqd work --rate 5/s`: a token bucket shared by every poll loop
 * of the worker. A loop takes tokens before it polls and asks the server for no more tasks than
 * it holds, so the worker never leases a task it may not start yet: such tasks stay pending on
 * the server, available to other workers. Tokens a poll did not fill are given back, so a token
 * is spent per task started, not per poll.
 *
 * Tokens accrue continuously at `ratePerSecond` up to `burst` (one second's worth, at least 1);
 * the bucket starts full. Time comes from the injected Clock, so tests drive it with a fake one.
 */
import type { Clock } from "../clock/clock.ts";

/** Absorbs floating-point dust, so a token accrued after an exact sleep counts as whole. */
const WHOLE_TOKEN_EPSILON = 1e-9;

export class TaskRateLimit {
  /** Most tokens the bucket holds: one second of the rate, at least 1. */
  readonly burst: number;
  /** Tokens available now; below zero when tasks beyond the tokens taken had to be started. */
  private tokens: number;
  /** When `tokens` was last brought up to date, epoch ms. */
  private updatedAtMs: number;

  constructor(
    /** Tasks per second. */
    readonly ratePerSecond: number,
    private readonly clock: Clock,
  ) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) throw new RangeError(`a rate must be a positive number of tasks per second, got ${ratePerSecond}`);
    this.burst = Math.max(1, Math.floor(ratePerSecond));
    this.tokens = this.burst;
    this.updatedAtMs = clock.now();
  }

  /** Whole tokens available now. */
  get available(): number {
    this.refill();
    return Math.max(0, Math.floor(this.tokens + WHOLE_TOKEN_EPSILON));
  }

  /**
   * Waits (on the clock) until at least one whole token has accrued, then takes up to `max`
   * (at least 1). Returns 0, taking nothing, once `signal` is aborted.
   */
  async take(max: number, signal: AbortSignal): Promise<number> {
    for (;;) {
      if (signal.aborted) return 0;
      const whole = this.available;
      if (whole >= 1) {
        const taken = Math.min(Math.max(1, max), whole);
        this.tokens -= taken;
        return taken;
      }
      await this.clock.sleep(this.msUntilNextToken(), signal);
    }
  }

  /** Gives back tokens taken for tasks a poll did not return (the bucket never exceeds `burst`). */
  refund(count: number): void {
    if (count <= 0) return;
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + count);
  }

  /**
   * Spends tokens for tasks a server handed out beyond what was asked: they run anyway (they are
   * leased), and the debt delays the next poll instead.
   */
  spend(count: number): void {
    if (count <= 0) return;
    this.refill();
    this.tokens -= count;
  }

  /** Milliseconds until `tokens` reaches 1 (rounded up, at least 1). */
  private msUntilNextToken(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }

  private refill(): void {
    const nowMs = this.clock.now();
    const elapsedMs = Math.max(0, nowMs - this.updatedAtMs);
    this.updatedAtMs = nowMs;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
  }
}
