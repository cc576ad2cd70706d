/** Events over the last 60 seconds, in one-second buckets (for describe's rates). */
const SECONDS = 60;

export class RecentCounter {
  private readonly buckets = new Uint32Array(SECONDS);
  private lastSecond = 0;

  add(now: number, count = 1): void {
    this.advance(now);
    this.buckets[this.lastSecond % SECONDS]! += count;
  }

  /** Events in the last 60 s at `now`. */
  total(now: number): number {
    this.advance(now);
    let sum = 0;
    for (const value of this.buckets) sum += value;
    return sum;
  }

  private advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.lastSecond) return;
    const steps = Math.min(SECONDS, second - this.lastSecond);
    for (let i = 1; i <= steps; i++) this.buckets[(this.lastSecond + i) % SECONDS] = 0;
    this.lastSecond = second;
  }
}
