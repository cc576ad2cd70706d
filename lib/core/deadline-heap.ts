/**
 * A binary min-heap of (deadline, key) entries. Entries are never removed from the middle:
 * the owner checks on pop whether an entry is still current (lazy deletion), which keeps every
 * operation O(log n) without an index.
 */
export interface DeadlineEntry<K> {
  /** Epoch ms at which the entry is due. */
  at: number;
  key: K;
}

export class DeadlineHeap<K> {
  private entries: DeadlineEntry<K>[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(at: number, key: K): void {
    const entries = this.entries;
    const entry = { at, key };
    entries.push(entry);
    let i = entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (entries[parent]!.at <= at) break;
      entries[i] = entries[parent]!;
      i = parent;
    }
    entries[i] = entry;
  }

  /** The earliest deadline, or undefined when empty. */
  peekAt(): number | undefined {
    return this.entries[0]?.at;
  }

  /** Removes and returns the earliest entry if it is due at `now`. */
  popDue(now: number): DeadlineEntry<K> | undefined {
    const top = this.entries[0];
    if (top === undefined || top.at > now) return undefined;
    const last = this.entries.pop()!;
    if (this.entries.length > 0) this.siftDown(last);
    return top;
  }

  /** Keeps only the entries `keep` accepts, in O(n) (rebuilds the heap bottom-up). */
  retain(keep: (entry: DeadlineEntry<K>) => boolean): void {
    const kept = this.entries.filter(keep);
    this.entries = kept;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.siftDownFrom(i, kept[i]!);
  }

  private siftDown(item: DeadlineEntry<K>): void {
    this.siftDownFrom(0, item);
  }

  private siftDownFrom(start: number, item: DeadlineEntry<K>): void {
    const entries = this.entries;
    const n = entries.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && entries[child + 1]!.at < entries[child]!.at) child++;
      if (entries[child]!.at >= item.at) break;
      entries[i] = entries[child]!;
      i = child;
    }
    entries[i] = item;
  }
}
