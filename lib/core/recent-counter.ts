/** Events over the last 60 seconds, in one-second buckets (for describe's rates). */
const SECONDS = 60;

export class RecentCounter {
  /** Allocated once events span two seconds: before that one inline pair suffices. */
  private buckets: Uint32Array | undefined;
  private lastSecond = 0;
  private firstCount = 0;

  add(now: number, count = 1): void {
    const second = Math.floor(now / 1000);
    if (!this.buckets && (this.firstCount === 0 || second === this.lastSecond)) {
      this.lastSecond = second;
      this.firstCount += count;
      return;
    }
    const buckets = this.bucketsNow();
    this.advance(buckets, now);
    buckets[this.lastSecond % SECONDS]! += count;
  }

  /** Events in the last 60 s at `now`. */
  total(now: number): number {
    if (!this.buckets) return Math.floor(now / 1000) - this.lastSecond < SECONDS ? this.firstCount : 0;
    this.advance(this.buckets, now);
    let sum = 0;
    for (const value of this.buckets) sum += value;
    return sum;
  }

  private bucketsNow(): Uint32Array {
    if (this.buckets) return this.buckets;
    this.buckets = new Uint32Array(SECONDS);
    this.buckets[this.lastSecond % SECONDS] = this.firstCount;
    return this.buckets;
  }

  private advance(buckets: Uint32Array, now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.lastSecond) return;
    const steps = Math.min(SECONDS, second - this.lastSecond);
    for (let i = 1; i <= steps; i++) buckets[(this.lastSecond + i) % SECONDS] = 0;
    this.lastSecond = second;
  }
}
