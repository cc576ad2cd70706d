/**
 * Serializes the operations that rewrite or delete final task rows (dead-letter requeue and
 * purge, retention, replacing a final task with a new run), so two of them never interleave
 * across their awaits on the same row.
 */
export class AdminLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
