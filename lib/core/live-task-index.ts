/**
 * The live tasks by id. A task whose id carries its own seq (every id the daemon mints, see
 * minted-task-id.ts) sits in a page of 32 slots found by that seq; any other (an id a producer
 * chose, or a requeued task, whose minted id carries its old seq) sits in a `Map` by id.
 *
 * Why not one `Map` by id: a JavaScriptCore `Map` rehashes its whole table on the thread when
 * its slots run out or its deleted entries pile up, at about 0.6-0.8 µs an entry: 13 ms at the
 * set that crosses 16,384 entries, and under churn a pause every few tens of thousands of
 * inserts. Spread over 16 `Map`s the tables fill alike and rehash within a few dozen inserts of
 * each other, so a batch or a window of 100 operations stalled as long as before. Pages by seq
 * never rehash (their own small `Map` holds one entry per 32 tasks), and finding a slot hashes
 * no string: 20,000 inserts took 3-4 ms against 13-21, and as many reads and deletes by ids
 * parsed from JSON 3-4 ms against 12-20 (bench/NOTES.md, "Live tasks by their seq").
 *
 * Tasks are consecutive seqs mostly, so a page is full or nearly; a page goes when its last
 * task does. A task alone in its page (a long wait among many short tasks) costs the page,
 * about 300 bytes.
 */
import { seqInTaskId } from "./minted-task-id.ts";

const PAGE_SIZE = 32;

interface Page<V> {
  readonly slots: (V | undefined)[];
  live: number;
}

export class LiveTaskIndex<V extends { readonly id: string; readonly seq: number }> {
  private readonly pages = new Map<number, Page<V>>();
  private readonly others = new Map<string, V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): V | undefined {
    const seq = seqInTaskId(id);
    if (seq !== undefined) {
      const task = this.pages.get(Math.floor(seq / PAGE_SIZE))?.slots[seq % PAGE_SIZE];
      if (task !== undefined && task.id === id) return task;
    }
    return this.others.size === 0 ? undefined : this.others.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `task` under its id, replacing the task of the same id if there is one. */
  add(task: V): void {
    const seq = seqInTaskId(task.id);
    if (seq === task.seq) {
      const page = this.pageFor(seq);
      const slot = seq % PAGE_SIZE;
      const held = page.slots[slot];
      if (held === undefined || held.id === task.id) {
        if (held === undefined) {
          page.live++;
          this.count++;
        }
        page.slots[slot] = task;
        if (this.others.size > 0 && this.others.delete(task.id)) this.count--;
        return;
      }
      // Another task at this seq (never among the tasks of one store): this one goes by id.
    } else if (seq !== undefined) {
      this.deleteFromPage(task.id, seq);
    }
    const before = this.others.size;
    this.others.set(task.id, task);
    this.count += this.others.size - before;
  }

  delete(id: string): boolean {
    const seq = seqInTaskId(id);
    if (seq !== undefined && this.deleteFromPage(id, seq)) return true;
    if (this.others.size === 0 || !this.others.delete(id)) return false;
    this.count--;
    return true;
  }

  *values(): IterableIterator<V> {
    for (const page of this.pages.values()) {
      for (const task of page.slots) if (task !== undefined) yield task;
    }
    yield* this.others.values();
  }

  private pageFor(seq: number): Page<V> {
    const key = Math.floor(seq / PAGE_SIZE);
    let page = this.pages.get(key);
    if (page === undefined) {
      page = { slots: new Array<V | undefined>(PAGE_SIZE).fill(undefined), live: 0 };
      this.pages.set(key, page);
    }
    return page;
  }

  /** Removes the task `id` from the slot of `seq` if it is there. */
  private deleteFromPage(id: string, seq: number): boolean {
    const key = Math.floor(seq / PAGE_SIZE);
    const page = this.pages.get(key);
    const slot = seq % PAGE_SIZE;
    if (page === undefined || page.slots[slot]?.id !== id) return false;
    page.slots[slot] = undefined;
    if (--page.live === 0) this.pages.delete(key);
    this.count--;
    return true;
  }
}
