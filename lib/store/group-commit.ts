/**
 * Group commit: every write submitted during two turns of the event loop shares a single
 * transaction and a single fsync. While a commit blocks the thread, new requests pile up in
 * the socket buffers; they form the next, larger batch, so throughput grows with load while
 * each acknowledgement still waits for its own data to be durable.
 *
 * Staged writes (see `stage`) are not awaited. Those staged to ride along start no commit of
 * their own: they join the next awaited commit, or go out STAGED_FLUSH_MS later when none
 * comes. A poll's dispatch records then share the fsync of the completions that follow them
 * (W2: one fsync fewer per round trip). Other staged writes go out in the next group commit:
 * a task given back must not stay leased for a whole lease if the daemon dies 20 ms later
 * (W4 kills it right after its worker gave tasks back).
 *
 * Patient commits (see `commit`) are acknowledgements nobody is blocked on: a worker on the
 * stream reuses a slot once its acknowledgement is sent. Under load (the last commit held at
 * least PACED_MIN_OPS operations) a queue of only patient submissions waits until PACE_MS after
 * the last commit, so one fsync serves more of them; any other submission ends the wait. A
 * producer waiting for its answer is never paced: 16 producers cannot fill a commit that waits
 * for them (W3 fell from 13,000 to 8,000/s when every commit was paced).
 *
 * Failure isolation: if a batch fails, each submission in it is retried in a transaction of
 * its own, so one bad write (or a full disk hitting one large batch) fails only its own caller.
 */
import { BATCH_SIZE_BOUNDS, Histogram, LATENCY_BOUNDS_S } from "../metrics/histogram.ts";

interface Submission<Op> {
  ops: Op[];
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/** How long staged writes wait for an awaited commit to ride along with, in ms. */
export const STAGED_FLUSH_MS = 20;

/** Operations in the last commit from which patient submissions are paced. */
export const PACED_MIN_OPS = 16;
/** How long after the last commit paced submissions are written, in ms. */
export const PACE_MS = 2;

export interface GroupCommitOptions<Op> {
  /** Writes `ops` in one transaction; throws if anything failed (the transaction rolled back). */
  writeBatch(ops: readonly Op[]): void;
  /** Called when staged (unawaited) ops could not be written. */
  onStagedFailure(error: unknown, ops: readonly Op[]): void;
}

export class GroupCommitter<Op> {
  private queue: Submission<Op>[] = [];
  private scheduled = false;
  private stagedTimer: ReturnType<typeof setTimeout> | undefined;
  private paceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Submissions queued that must not be paced. */
  private impatient = 0;
  private lastCommitEndMs = 0;
  private closed = false;
  commits = 0;
  opsCommitted = 0;
  lastBatchOps = 0;
  /** Operations per committed transaction. */
  readonly batchSizes = new Histogram(BATCH_SIZE_BOUNDS);
  /** Seconds each transaction took, fsync included. */
  readonly commitSeconds = new Histogram(LATENCY_BOUNDS_S);

  constructor(private readonly options: GroupCommitOptions<Op>) {}

  /**
   * Writes `ops` durably; resolves after the fsync. `patient`: the caller is not blocked on the
   * answer, so under load it may wait up to PACE_MS for a larger commit (see the header).
   */
  commit(ops: Op[], patient = false): Promise<void> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!patient) this.impatient++;
      this.schedule();
    });
  }

  stage(ops: Op[], rideAlong = false): void {
    if (this.closed || ops.length === 0) return;
    this.queue.push({ ops });
    if (!rideAlong) {
      this.impatient++;
      this.schedule();
      return;
    }
    this.stagedTimer ??= setTimeout(() => {
      this.stagedTimer = undefined;
      this.schedule();
    }, STAGED_FLUSH_MS);
  }

  /** Writes everything queued now, synchronously. */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    this.impatient = 0;
    if (this.stagedTimer !== undefined) {
      clearTimeout(this.stagedTimer);
      this.stagedTimer = undefined;
    }
    if (this.paceTimer !== undefined) {
      clearTimeout(this.paceTimer);
      this.paceTimer = undefined;
    }
    if (batch.length === 0) return;
    const ops = batch.flatMap((submission) => submission.ops);
    try {
      this.write(ops);
      for (const submission of batch) submission.resolve?.();
    } catch {
      this.retryOneByOne(batch);
    }
  }

  /** Flushes, then refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private retryOneByOne(batch: Submission<Op>[]): void {
    for (const submission of batch) {
      try {
        this.write(submission.ops);
        submission.resolve?.();
      } catch (error) {
        if (submission.reject) submission.reject(error);
        else this.options.onStagedFailure(error, submission.ops);
      }
    }
  }

  /** Writes one transaction and records its size and duration. */
  private write(ops: readonly Op[]): void {
    const started = performance.now();
    this.options.writeBatch(ops);
    this.commitSeconds.observe((performance.now() - started) / 1000);
    this.batchSizes.observe(ops.length);
    this.commits++;
    this.opsCommitted += ops.length;
    this.lastBatchOps = ops.length;
    this.lastCommitEndMs = performance.now();
  }

  private schedule(): void {
    if (this.scheduled) {
      if (this.paceTimer === undefined || this.impatient === 0) return;
      // Someone waits for an answer now: end the pause.
      clearTimeout(this.paceTimer);
      this.paceTimer = undefined;
      this.scheduled = false;
    }
    this.scheduled = true;
    if (this.impatient === 0 && this.lastBatchOps >= PACED_MIN_OPS) {
      const waitMs = this.lastCommitEndMs + PACE_MS - performance.now();
      if (waitMs > 0) {
        this.paceTimer = setTimeout(() => this.flush(), Math.ceil(waitMs)); // timers take whole ms
        return;
      }
    }
    // Two turns, not one: a request's body is read a turn after it arrives, so requests that
    // arrived together submit over two turns (W3: 8.1 -> 10.3 ops per commit, server CPU per
    // enqueue -6 %; a third turn made it worse).
    setImmediate(() => setImmediate(() => this.flush()));
  }
}
