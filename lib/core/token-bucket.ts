/**
 * A token bucket driven by explicit time: `ratePerSecond` tokens accrue continuously up to
 * `burst`; each dispatch takes one. Over any window of T seconds at most rate x T + burst
 * tokens can be taken, which is the throttling guarantee.
 */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.updatedAt = now;
  }

  get rate(): RateLimit {
    return this.limit;
  }

  /** Changes the limit; tokens already accrued are kept up to the new burst. */
  setLimit(limit: RateLimit, now: number): void {
    this.refill(now);
    this.limit = limit;
    this.tokens = Math.min(this.tokens, limit.burst);
  }

  /** Whole tokens available at `now`. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens + 1e-9);
  }

  take(count: number, now: number): void {
    this.refill(now);
    this.tokens -= count;
  }

  /** Epoch ms at which the next whole token is available (now, if one is). */
  nextTokenAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 - 1e-9) return now;
    return now + Math.ceil(((1 - this.tokens) / this.limit.ratePerSecond) * 1000);
  }

  private refill(now: number): void {
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.limit.ratePerSecond);
    this.updatedAt = now;
  }
}

/** The default burst: one second of rate, at least one token. */
export function defaultBurst(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond));
}
