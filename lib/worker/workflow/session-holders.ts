/**
 * The sessions this worker holds (`tqd work --max-sessions N`). A session is a holder task
 * (`tqd.session`) leased from a base queue; while the worker holds it, the server sends the
 * session's activities to this worker's own queue (`Q@worker:IDENTITY`, already polled). A
 * holder runs no code and takes no concurrency slot: it heartbeats every third of its heartbeat
 * timeout, so the server knows the worker lives, and it ends when:
 *   - a heartbeat answer says cancelRequested (the workflow completed the session, or closed):
 *     the holder reports completion, which the server records as `canceled`, as for any task
 *     whose cancel was requested;
 *   - the server no longer knows the lease (404/409), or the lease ran out while the server
 *     could not be reached: the server has failed the session already, nothing is reported;
 *   - the worker stops: after running tasks have drained (so session activities that were
 *     running finish and report first), each holder is reported failed, non-retryable. The
 *     workflow learns at once (`session.failed`) and can retry on another worker, instead of
 *     waiting out the heartbeat timeout (20 s by default) for a worker that will not come back.
 *     A killed worker cannot report; its sessions fail by heartbeat timeout.
 *
 * Capacity is counted here, not in the slot pool: base-queue polls reserve session slots
 * (`reserve`) before they name `tqd.session`, so holders never exceed the limit (see
 * poll-loop.ts for why the same poll carries them).
 */
import { TqdUnreachableError } from "../../client/index.ts";
import { sessionTaskInputSchema, WORKFLOW_DEFAULTS, type LeasedTask } from "../../protocol/index.ts";
import { reportOutcome, type ReportDeps } from "../report-outcome.ts";
import { describeError, taskError } from "../task-outcome.ts";
import { isLeaseLost } from "../worker-client.ts";

/** Shortest gap between a holder's heartbeats, in ms, whatever its heartbeat timeout. */
export const MIN_SESSION_HEARTBEAT_MS = 100;

export interface SessionHolderDeps extends ReportDeps {
  /** This worker's identity, for the failure reported at shutdown. */
  identity: string;
}

/** How a holder ended. */
type HolderEnd = "released" | "lost" | "expired" | "worker-stopped";

export class SessionHolders {
  /** Slots reserved by polls in flight that may bring holders. */
  private reserved = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    /** Most sessions held at once (`--max-sessions`). */
    readonly capacity: number,
    private readonly deps: SessionHolderDeps,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`session capacity must be a whole number >= 1, got ${capacity}`);
  }

  /** Sessions held now. */
  get held(): number {
    return this.running.size;
  }

  /** Reserves up to `want` session slots for a poll; returns how many (0 when full or stopping). */
  reserve(want: number): number {
    if (this.stopping.signal.aborted) return 0;
    const count = Math.max(0, Math.min(want, this.capacity - this.running.size - this.reserved));
    this.reserved += count;
    return count;
  }

  /** Returns reserved slots a poll did not fill. */
  unreserve(count: number): void {
    this.reserved = Math.max(0, this.reserved - Math.max(0, count));
  }

  /** Holds the session of a holder task a poll brought (filling one reserved slot). */
  hold(task: LeasedTask): void {
    this.unreserve(1);
    const run = holdSession(task, this.deps, this.stopping.signal).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Ends every held session as the worker stops (see the header); resolves once each is reported. */
  async releaseAll(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
  }
}

/** Heartbeats one holder until it ends, then reports what the end calls for; never rejects. */
async function holdSession(task: LeasedTask, deps: SessionHolderDeps, stop: AbortSignal): Promise<void> {
  const input = sessionTaskInputSchema.safeParse(task.input);
  const fields = { taskId: task.id, ...(input.success ? input.data : {}) };
  const lease = { deadlineMs: Date.parse(task.leaseDeadline) || deps.clock.now() };
  deps.log.info("session started", fields);
  let end: HolderEnd;
  try {
    end = await heartbeatUntilEnd(task, deps, stop, lease);
  } catch (error) {
    deps.log.error("session holder failed", { ...fields, error: describeError(error) });
    end = "worker-stopped";
  }
  const leaseDeadlineMs = () => lease.deadlineMs;
  switch (end) {
    case "released":
      deps.log.info("session released", fields);
      await reportOutcome(task, { ok: true, result: undefined }, leaseDeadlineMs, deps);
      return;
    case "lost":
      deps.log.warn("session lost: the server no longer holds its lease", fields);
      return;
    case "expired":
      deps.log.warn("session lost: no heartbeat reached the server before its lease ran out", fields);
      return;
    case "worker-stopped": {
      deps.log.info("session ended: the worker is stopping", fields);
      const error = { ...taskError("WorkerStopped", `worker ${deps.identity} stopped while holding the session`), nonRetryable: true };
      await reportOutcome(task, { ok: false, error }, leaseDeadlineMs, deps);
      return;
    }
  }
}

async function heartbeatUntilEnd(task: LeasedTask, deps: SessionHolderDeps, stop: AbortSignal, lease: { deadlineMs: number }): Promise<HolderEnd> {
  const { client, clock, health, log } = deps;
  const timeoutMs = task.heartbeatTimeoutMs ?? WORKFLOW_DEFAULTS.sessionHeartbeatTimeoutMs;
  const intervalMs = Math.max(MIN_SESSION_HEARTBEAT_MS, Math.floor(timeoutMs / 3));
  for (;;) {
    await clock.sleep(intervalMs, stop);
    if (stop.aborted) return "worker-stopped";
    try {
      const answer = await client.heartbeat(task.id, task.leaseToken);
      health.markReachable();
      const nextMs = Date.parse(answer.leaseDeadline);
      if (Number.isFinite(nextMs)) lease.deadlineMs = nextMs;
      if (answer.cancelRequested) return "released";
    } catch (error) {
      if (isLeaseLost(error)) {
        health.markReachable();
        return "lost";
      }
      if (error instanceof TqdUnreachableError) {
        health.markUnreachable(error);
        if (clock.now() >= lease.deadlineMs) return "expired";
      } else {
        log.warn("session heartbeat failed", { taskId: task.id, error: describeError(error) });
      }
    }
  }
}
