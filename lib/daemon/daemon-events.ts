/**
 * Typed events the daemon emits, so tests (and metrics later) wait on what happened instead of
 * sleeping. Listeners run synchronously and must not throw.
 */
export interface DaemonEventMap {
  "task.enqueued": { id: string; queue: string };
  "task.dispatched": { id: string; queue: string; attempt: number; worker: string };
  "task.finished": { id: string; queue: string; state: "completed" | "failed" | "canceled" | "timed_out" };
  "lease.expired": { id: string; queue: string; attempt: number };
  /** A leased task went back to pending, its attempt uncounted (the worker left or gave it back). */
  "task.released": { id: string; queue: string };
  "poll.parked": { queue: string; identity: string };
  /** Events were appended to a workflow's history (committed). */
  "workflow.changed": { workflowId: string; lastEventId: number };
}

export type DaemonEventName = keyof DaemonEventMap;
type Listener<E extends DaemonEventName> = (event: DaemonEventMap[E]) => void;

export class DaemonEvents {
  private readonly listeners = new Map<DaemonEventName, Set<Listener<never>>>();

  on<E extends DaemonEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Resolves with the first event of `name` for which `match` holds. */
  next<E extends DaemonEventName>(name: E, match: (event: DaemonEventMap[E]) => boolean = () => true): Promise<DaemonEventMap[E]> {
    return new Promise((resolve) => {
      const off = this.on(name, (event) => {
        if (!match(event)) return;
        off();
        resolve(event);
      });
    });
  }

  /**
   * Whether anything listens for `name`. The per-task events are built only then: in a daemon
   * nothing listens, and an object a task each was garbage for the collector (bench/NOTES.md).
   */
  listening(name: DaemonEventName): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }

  emit<E extends DaemonEventName>(name: E, event: DaemonEventMap[E]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) (listener as Listener<E>)(event);
  }
}
