/**
 * The replay-safe randomness of `ctx.random()` and `ctx.uuid()`: a small PRNG (mulberry32)
 * seeded by the `randomSeed` of `workflow.started`, so every replay draws the same numbers in
 * the same order. Not for secrets.
 */
export class SeededRandom {
  /** The generator's 32-bit state. */
  private state: number;

  constructor(seed: number) {
    // Folds a seed wider than 32 bits (the wire allows any integer) into the state.
    this.state = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** A version-4 UUID built from 16 draws. */
  uuid(): string {
    const bytes = Array.from({ length: 16 }, () => Math.floor(this.next() * 256));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
