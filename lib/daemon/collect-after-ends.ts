/**
 * Full collections while a backlog drains. Tasks that end leave memory, but they are old
 * objects: JavaScriptCore's young-generation collections cannot free them, and its own full
 * collection waits for the heap to grow a multiple of what was live after the last one. So
 * while 1,000,000 pending tasks drained, the heap in use grew 185 -> 491 MiB and VmRSS reached
 * 723 MiB with nothing left to keep. A full collection after every so many ended tasks keeps
 * that garbage bounded: the same drain peaked at about 455 MiB and ended at 82, at 52,508
 * against 55,406 tasks/s (one run each), paying 21-65 ms a collection on the daemon's thread
 * (the pause grows with what is still live). The interval grows with the live count (a
 * quarter of it, at least MIN_ENDED) so that the pauses cost the same per ended task however
 * deep the backlog; a daemon that never holds 100,000 tasks never pauses for this.
 */

/** Ended tasks between two collections, at least. */
export const MIN_ENDED = 100_000;

export class CollectAfterEnds {
  private ended = 0;
  private scheduled = false;

  /**
   * `collect` runs a full collection (none in tests and embedders that do not pass one);
   * `defer` runs it after the current request's work, not in the middle of a settle.
   */
  constructor(
    private readonly collect: (() => void) | undefined,
    private readonly defer: (run: () => void) => void,
  ) {}

  /** A task ended and left memory; `live` tasks remain. */
  taskEnded(live: number): void {
    if (this.collect === undefined || this.scheduled) return;
    if (++this.ended < Math.max(MIN_ENDED, live / 4)) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.ended = 0;
      this.collect?.();
    });
  }
}
