/**
 * Retry pacing for calls that failed because the server could not be reached: 100 ms doubling to
 * 5 s, with "equal jitter" (half fixed, half random) so a fleet of workers that lost the server at
 * the same moment does not reconnect in lockstep.
 */
export const INITIAL_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 5_000;

/** Delay before retry number `failures` (0 for the first retry), in ms; `random` returns [0, 1). */
export function backoffDelayMs(failures: number, random: () => number): number {
  const ceilingMs = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(failures, 30));
  return Math.round(ceilingMs / 2 + random() * (ceilingMs / 2));
}
