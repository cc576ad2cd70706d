/**
 * Sticky execution's memory: the live executions this worker answered the last workflow task
 * of, keyed by workflow id, least recently used first out (`tqd work --workflow-cache N`).
 * The server sends a workflow's next task to this worker's own queue first, so while the
 * worker lives, the entry is hit and the workflow never replays.
 *
 * A workflow task takes its entry out for as long as it runs and puts it back only after a
 * successful answer, so two tasks of one workflow never share an execution, and an entry
 * that failed in any way is simply never put back. Tasks of one workflow also run one after
 * the other (`exclusive`): the server records an answer and dispatches the next task in one
 * commit, so the next task can reach this worker before the answer's response has, and it
 * must wait for the entry to be put back rather than replay.
 */
import type { ExecutionReplay } from "./execution-replay.ts";

export const DEFAULT_WORKFLOW_CACHE_SIZE = 500;

export interface CachedExecution {
  replay: ExecutionReplay;
  /** The history's last event id after the answer was recorded (task-complete's `lastEventId`). */
  lastEventId: number;
}

export class ExecutionCache {
  /** Map order is use order: the first key is the least recently used. */
  private readonly entries = new Map<string, CachedExecution>();
  /** Per workflow: settles when the last task queued by `exclusive` is done. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`the workflow cache size must be a whole number >= 0, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Removes and returns the entry of `workflowId`, if any. */
  take(workflowId: string): CachedExecution | undefined {
    const entry = this.entries.get(workflowId);
    this.entries.delete(workflowId);
    return entry;
  }

  /** Stores `entry` as the most recently used, evicting the least recently used beyond capacity. */
  put(workflowId: string, entry: CachedExecution): void {
    this.entries.delete(workflowId);
    if (this.capacity === 0) return;
    this.entries.set(workflowId, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(workflowId: string): void {
    this.entries.delete(workflowId);
  }

  /** Runs `task` once every task queued earlier for `workflowId` is done. */
  async exclusive<T>(workflowId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(workflowId) ?? Promise.resolve();
    let done!: () => void;
    const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
    this.tails.set(workflowId, tail);
    await previous;
    try {
      return await task();
    } finally {
      done();
      if (this.tails.get(workflowId) === tail) this.tails.delete(workflowId);
    }
  }
}
