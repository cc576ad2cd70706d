/**
 * Waiting for a quiet moment: resolves once a counter of activity (requests seen, say) has not
 * moved for a whole check interval. Work that pauses the process (a full garbage collection)
 * waits for such a moment instead of landing on top of the first requests after a start.
 */
import type { Clock } from "./clock.ts";

export interface QuietWait {
  /** Grows with every unit of activity; only changes are compared. */
  activity: () => number;
  /** Length of the quiet window that counts, in ms. */
  windowMs: number;
  /** Stop looking after this long (the process is busy; its own collections do the work). */
  giveUpAfterMs: number;
  signal?: AbortSignal;
}

/** True once a quiet window passed; false when it gave up or `signal` aborted first. */
export async function whenQuiet(clock: Clock, wait: QuietWait): Promise<boolean> {
  const deadline = clock.now() + wait.giveUpAfterMs;
  let seen = wait.activity();
  for (;;) {
    await clock.sleep(wait.windowMs, wait.signal);
    if (wait.signal?.aborted) return false;
    const now = wait.activity();
    if (now === seen) return true;
    if (clock.now() >= deadline) return false;
    seen = now;
  }
}
