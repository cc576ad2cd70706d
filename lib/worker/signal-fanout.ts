/**
 * Runs many callbacks when one signal aborts, with a single listener on the signal. Each task
 * adding and removing a listener of its own on the worker's abandon signal was 11 % of the
 * worker's CPU samples in a drain (`addEventListener` and `removeEventListener`).
 */
export class SignalFanout {
  private readonly callbacks = new Set<() => void>();

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener(
      "abort",
      () => {
        const callbacks = [...this.callbacks];
        this.callbacks.clear();
        for (const callback of callbacks) callback();
      },
      { once: true },
    );
  }

  /** Calls `callback` once the signal aborts: at once if it has. */
  add(callback: () => void): void {
    if (this.signal.aborted) callback();
    else this.callbacks.add(callback);
  }

  delete(callback: () => void): void {
    this.callbacks.delete(callback);
  }
}
