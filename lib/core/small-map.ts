/**
 * A string-keyed map that holds its first entry inline and allocates a real Map only when a
 * second key arrives. Queues usually carry one fairness key and one task type, and 100,000
 * idle-ish queues should not each pay for two hash tables.
 */
export class SmallMap<V> {
  private onlyKey: string | undefined;
  private onlyValue: V | undefined;
  private map: Map<string, V> | undefined;

  get(key: string): V | undefined {
    if (this.map) return this.map.get(key);
    return key === this.onlyKey ? this.onlyValue : undefined;
  }

  set(key: string, value: V): void {
    if (this.map) {
      this.map.set(key, value);
    } else if (this.onlyKey === undefined || this.onlyKey === key) {
      this.onlyKey = key;
      this.onlyValue = value;
    } else {
      this.map = new Map([[this.onlyKey, this.onlyValue as V], [key, value]]);
      this.onlyKey = undefined;
      this.onlyValue = undefined;
    }
  }

  delete(key: string): void {
    if (this.map) this.map.delete(key);
    else if (key === this.onlyKey) {
      this.onlyKey = undefined;
      this.onlyValue = undefined;
    }
  }

  *entries(): IterableIterator<[string, V]> {
    if (this.map) yield* this.map.entries();
    else if (this.onlyKey !== undefined) yield [this.onlyKey, this.onlyValue as V];
  }
}
