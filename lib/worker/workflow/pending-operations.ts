/**
 * What one execution's code waits on, by seq: activities, timers and session creations, each
 * with the settle functions of the promise `ctx` handed out. Entries leave when their
 * resolution event is applied. Also renders them for `blockedOn`.
 *
 * Every promise made here gets a no-op rejection handler, so a promise the code dropped (an
 * activity started and never awaited) cannot become an unhandled rejection that ends the
 * worker; code that awaits it still sees the rejection.
 */
import { LIMITS_WORKFLOW } from "../../protocol/index.ts";

/** What a seq waits for. */
export type Operation = { kind: "activity"; type: string; session: number | undefined } | { kind: "timer"; untilMs: number } | { kind: "session"; queue: string };

interface Settle {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export type PendingOperation = Operation & { settle: Settle };

const MAX_BLOCKED_ON_CHARS = 500;

export class PendingOperations {
  /** Map order is seq order: seqs only grow. */
  private readonly bySeq = new Map<number, PendingOperation>();

  /** Records what `seq` waits for; returns the promise its resolution event settles. */
  add<T>(seq: number, operation: Operation): Promise<T> {
    return handled(
      new Promise<T>((resolve, reject) => {
        this.bySeq.set(seq, { ...operation, settle: { resolve: resolve as (value: unknown) => void, reject } });
      }),
    );
  }

  /** Removes and returns what `seq` waits for, if it is of `kind` and still pending. */
  take<K extends Operation["kind"]>(seq: number, kind: K): Extract<PendingOperation, { kind: K }> | undefined {
    const operation = this.bySeq.get(seq);
    if (operation?.kind !== kind) return undefined;
    this.bySeq.delete(seq);
    return operation as Extract<PendingOperation, { kind: K }>;
  }

  /** The server's fire time of a timer (from its `timer.started` event), for `describe`. */
  noteTimerFireAt(seq: number, fireAtMs: number): void {
    const operation = this.bySeq.get(seq);
    if (operation?.kind === "timer" && Number.isFinite(fireAtMs)) operation.untilMs = fireAtMs;
  }

  /** Each pending operation in words, plus `signal "NAME"` for each awaited signal name. */
  describe(signalNames: readonly string[]): string[] {
    const lines: string[] = [];
    for (const [seq, operation] of this.bySeq) {
      if (operation.kind === "activity") {
        lines.push(`activity "${operation.type}" (seq ${seq})${operation.session === undefined ? "" : ` in session seq ${operation.session}`}`);
      } else if (operation.kind === "timer") {
        lines.push(`timer seq ${seq} until ${new Date(operation.untilMs).toISOString()}`);
      } else {
        lines.push(`session on "${operation.queue}" (seq ${seq})`);
      }
    }
    for (const name of signalNames) lines.push(`signal "${name}"`);
    return lines.slice(0, LIMITS_WORKFLOW.blockedOn).map((line) => (line.length > MAX_BLOCKED_ON_CHARS ? `${line.slice(0, MAX_BLOCKED_ON_CHARS - 1)}…` : line));
  }
}

/** Marks a promise's rejection as handled (see the header); the promise itself is unchanged. */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
