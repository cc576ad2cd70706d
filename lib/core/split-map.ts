/**
 * A string-keyed map split over 16 JavaScriptCore `Map`s by the key's last two characters.
 *
 * Why: a JSC `Map` rehashes its whole table, on the thread, when its slots run out (deleted
 * entries hold theirs until then), so its pauses grow with its size: 10 ms once when it
 * crosses 16,384 entries, and at a steady 10,000 live entries under churn, 5 ms every 39,000
 * inserts (30,000 live: 10-12 ms every 68,000). The daemon's live tasks cross 16,384 in a fresh
 * daemon's first batches and churn from then on. Split, each table rehashes as often but holds
 * a sixteenth of the entries, so its pauses are a sixteenth as long, and none crosses 16,384
 * below 262,144 live entries (bench/NOTES.md, "A Map's rehash").
 *
 * The last two characters spread minted task ids evenly (they are random digits); ids a
 * producer chose that end alike only share a table, as all keys did before.
 */
const SHARDS = 16;

export class SplitMap<V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shardOf(key).get(key);
  }

  has(key: string): boolean {
    return this.shardOf(key).has(key);
  }

  set(key: string, value: V): void {
    const shard = this.shardOf(key);
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
  }

  delete(key: string): boolean {
    const deleted = this.shardOf(key).delete(key);
    if (deleted) this.count--;
    return deleted;
  }

  *values(): IterableIterator<V> {
    for (const shard of this.shards) yield* shard.values();
  }

  private shardOf(key: string): Map<string, V> {
    const n = key.length;
    // charCodeAt past the start is NaN, and NaN | 0 is 0: a one-character key still lands.
    return this.shards[(key.charCodeAt(n - 1) + 7 * (key.charCodeAt(n - 2) | 0)) & (SHARDS - 1)]!;
  }
}
