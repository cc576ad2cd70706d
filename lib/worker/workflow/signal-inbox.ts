/**
 * Signals of one execution by name: a signal goes to the code waiting for its name, if any,
 * else it is kept, so `ctx.signal(name)` returns signals in arrival order whenever it asks.
 */
export class SignalInbox {
  private readonly buffered = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, ((payload: unknown) => void)[]>();

  /** A signal arrived: hands it to the first waiter of its name, or keeps it. */
  deliver(name: string, payload: unknown): void {
    const waiter = this.waiters.get(name)?.shift();
    if (waiter) {
      waiter(payload);
      return;
    }
    const kept = this.buffered.get(name) ?? [];
    kept.push(payload);
    this.buffered.set(name, kept);
  }

  /** The next signal named `name`: at once if one is kept, else when it arrives. */
  next<Payload>(name: string): Promise<Payload> {
    const kept = this.buffered.get(name);
    if (kept && kept.length > 0) {
      const payload = kept.shift();
      if (kept.length === 0) this.buffered.delete(name);
      return Promise.resolve(payload as Payload);
    }
    return new Promise<Payload>((resolve) => {
      const waiting = this.waiters.get(name) ?? [];
      waiting.push(resolve as (payload: unknown) => void);
      this.waiters.set(name, waiting);
    });
  }

  /** Names the code waits for. */
  awaitedNames(): string[] {
    return [...this.waiters].filter(([, waiting]) => waiting.length > 0).map(([name]) => name);
  }
}
