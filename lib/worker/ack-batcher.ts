/**
 * Coalesces task outcomes into `POST /v1/tasks/complete` requests (over the worker stream or
 * HTTP), which the server group-commits. An outcome reported while fewer than
 * ACK_REQUESTS_IN_FLIGHT requests are in flight goes out on the next turn of the event loop (so
 * outcomes of the same tick share it, and an idle worker adds no latency); outcomes reported
 * while that many are in flight wait for one of them and go out together in the next.
 *
 * A batch sent over an ordered channel (the worker stream) frees its outcomes' slots as soon as
 * it is on the socket (`onOrdered`), not when it is answered: see task-runner.ts. It then no
 * longer counts against ACK_REQUESTS_IN_FLIGHT, only against ORDERED_ACKS_IN_FLIGHT: the server
 * holds such acknowledgements up to 2 ms for a larger commit (patient commits), and with only 4
 * batches allowed until their answers, outcomes waited behind those commits with their slots
 * held.
 *
 * Only definite answers are final here: a settled item, or a stale lease (409) or unknown task
 * (404). Anything else (the request failed, an item was refused for another reason) comes back
 * as `alone`, and the caller reports that outcome by itself with the per-task retry rules of
 * report-outcome.ts. A server without the batch route (404/405) turns batching off for good.
 */
import { TqdApiError } from "../client/index.ts";
import { LIMITS, type LeasedTask, type SettleItem, type SettleItemResult } from "../protocol/index.ts";
import type { TaskOutcome } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

/**
 * Batches sent and not yet ordered (see the header) before the previous ones are answered:
 * over HTTP, all of them. Chosen while slots were held until the answer: one at a time, a task
 * finishing during a commit waited for that commit and then its own (W1 drain through the
 * stream, 4 runs each: 1 -> 11,594, 4 -> 14,257, 8 -> 12,927, unbounded -> 13,564 tasks/s).
 */
export const ACK_REQUESTS_IN_FLIGHT = 4;
/**
 * Batches in flight in all, ordered or not: the bound that keeps outcomes (and so new tasks)
 * from piling up behind a server that takes them but does not answer. W1 drain through the
 * stream with 4 -> 8, 16, 64 or 1,000: about 1.95 -> 1.3-1.6 s for 55,000 tasks, alike.
 */
export const ORDERED_ACKS_IN_FLIGHT = 16;

/** What became of one outcome sent in a batch. */
export type BatchVerdict = { kind: "settled" } | { kind: "lease-lost"; message: string } | { kind: "alone" };


interface Waiting {
  item: SettleItem;
  resolve(verdict: BatchVerdict): void;
  onOrdered: (() => void) | undefined;
}

const ALONE: BatchVerdict = { kind: "alone" };
const SETTLED: BatchVerdict = { kind: "settled" };

export class AckBatcher {
  private waiting: Waiting[] = [];
  /** Batches sent and not answered. */
  private inFlight = 0;
  /** Of those, the ones not yet ordered (HTTP requests, or stream frames not yet sent). */
  private unordered = 0;
  private scheduled = false;
  private unsupported = false;
  /** Requests sent and items in them, for tests and debugging. */
  requests = 0;
  items = 0;

  constructor(
    /** A client without `settleBatch` (an older fake, say) gets every outcome back `alone`. */
    private readonly client: Pick<WorkerClient, "settleBatch">,
    private readonly maxItems: number = LIMITS.settleBatch,
    private readonly maxUnordered: number = ACK_REQUESTS_IN_FLIGHT,
    private readonly maxInFlight: number = ORDERED_ACKS_IN_FLIGHT,
  ) {}

  /**
   * Queues `outcome` for the next batch; resolves with what the server said about it.
   * `onOrdered` runs if the client says the server will read it before anything sent later.
   */
  report(task: LeasedTask, outcome: TaskOutcome, onOrdered?: () => void): Promise<BatchVerdict> {
    if (this.unsupported || !this.client.settleBatch) return Promise.resolve(ALONE);
    const item: SettleItem = outcome.ok
      ? outcome.result === undefined
        ? { id: task.id, leaseToken: task.leaseToken }
        : { id: task.id, leaseToken: task.leaseToken, result: outcome.result }
      : { id: task.id, leaseToken: task.leaseToken, error: outcome.error };
    return new Promise((resolve) => {
      this.waiting.push({ item, resolve, onOrdered });
      this.schedule();
    });
  }

  private mayFlush(): boolean {
    return this.unordered < this.maxUnordered && this.inFlight < this.maxInFlight && this.waiting.length > 0;
  }

  private schedule(): void {
    if (this.scheduled || !this.mayFlush()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (!this.mayFlush()) return;
    const batch = this.waiting.splice(0, this.maxItems);
    this.inFlight++;
    this.unordered++;
    this.requests++;
    this.items += batch.length;
    let isOrdered = false;
    try {
      const items = batch.map((waiting) => waiting.item);
      const ordered = () => {
        if (isOrdered) return;
        isOrdered = true;
        this.unordered--;
        for (const waiting of batch) waiting.onOrdered?.();
        this.schedule();
      };
      const results = await this.client.settleBatch!(items, undefined, ordered);
      batch.forEach((waiting, index) => waiting.resolve(verdictOf(results[index], waiting.item.id)));
    } catch (error) {
      if (error instanceof TqdApiError && (error.status === 404 || error.status === 405)) this.unsupported = true;
      for (const waiting of batch) waiting.resolve(ALONE);
    } finally {
      this.inFlight--;
      if (!isOrdered) this.unordered--;
      this.schedule();
    }
  }
}

function verdictOf(result: SettleItemResult | undefined, id: string): BatchVerdict {
  if (result === undefined || result.id !== id) return ALONE;
  if ("state" in result) return SETTLED;
  if (result.error.code === "conflict" || result.error.code === "not_found") return { kind: "lease-lost", message: result.error.message };
  return ALONE;
}
