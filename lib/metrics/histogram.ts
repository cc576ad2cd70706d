/**
 * A cumulative histogram with fixed upper bounds, in the shape Prometheus exposes: counts per
 * bucket (observations <= bound), a sum and a count. Imports nothing, so every layer may use it.
 */
export class Histogram {
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Cumulative counts per bound (for `_bucket{le=...}` lines); `+Inf` is `count`. */
  cumulative(): number[] {
    let running = 0;
    return this.counts.map((n) => (running += n));
  }
}

/** Seconds from 1 ms to 1 min, for latencies. */
export const LATENCY_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Operations per commit. */
export const BATCH_SIZE_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
