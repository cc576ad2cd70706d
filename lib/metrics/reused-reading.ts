/**
 * A reading taken at most once per `maxAgeMs` and reused in between: for gauges whose reading
 * costs more than a scrape should (see cmd/serve.ts, the daemon's memory). `now` is the clock.
 */
export function reusedReading<T>(maxAgeMs: number, now: () => number, read: () => T): () => T {
  let last: { at: number; value: T } | undefined;
  return () => {
    const at = now();
    if (last === undefined || at - last.at >= maxAgeMs || at < last.at) last = { at, value: read() };
    return last.value;
  };
}
