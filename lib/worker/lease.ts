/**
 * One leased task's lease as the worker sees it: the deadline (moved by heartbeats, when the task
 * has a heartbeat timeout), the abort signal handed to the handler, the throttled heartbeats, and
 * the worker's lease watch (lease-watch.ts), which expires the lease locally when the deadline
 * passes, since by then the server has timed the attempt out. The handler's AbortController and
 * the heartbeat throttle are made on first use (most tasks never heartbeat or read the signal),
 * not per task.
 *
 * The signal's abort causes differ in what follows: "lease-lost" and "lease-expired" close the
 * lease (no more heartbeats; a lost lease is not reported), while "cancel-requested" and
 * "worker-stopped" leave it open, so the handler's outcome is still reported (the server turns it
 * into `canceled`) and its last heartbeat details still reach the server.
 */
import { TqdUnreachableError } from "../client/index.ts";
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask } from "../protocol/index.ts";
import { TaskAbortedError, type TaskAbortCause } from "./handler-api.ts";
import { HeartbeatThrottle, heartbeatThrottleMs } from "./heartbeat-throttle.ts";
import type { LeaseWatch, WatchedLease } from "./lease-watch.ts";
import type { ServerHealth } from "./server-health.ts";
import { describeError } from "./task-outcome.ts";
import { isLeaseLost, type WorkerClient } from "./worker-client.ts";

export interface LeaseDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  health: ServerHealth;
  /** The worker's one deadline watcher. */
  leases: LeaseWatch;
}

/**
 * The reason every lease closes with. One shared value: `abort()` without a reason builds a
 * DOMException with a stack trace per task, which showed as a fifth of the worker's CPU.
 */
const LEASE_CLOSED = new Error("the lease is closed");

export class TaskLease implements WatchedLease {
  /** Epoch ms; the server's deadline, so it assumes the clocks roughly agree. */
  private deadlineMs: number;
  private lostFlag = false;
  /** The handler's signal's controller, made on first use. */
  private controller: AbortController | undefined;
  /** The lease is over for this worker: lost, expired or released. */
  private closed = false;
  /** Made with the first heartbeat. */
  private heartbeats: HeartbeatThrottle | undefined;
  /** Aborted once closed; made for the heartbeat throttle. */
  private closedController: AbortController | undefined;

  constructor(
    private readonly task: LeasedTask,
    private readonly deps: LeaseDeps,
  ) {
    const parsedMs = Date.parse(task.leaseDeadline);
    this.deadlineMs = Number.isFinite(parsedMs) ? parsedMs : deps.clock.now();
    deps.leases.add(this);
  }

  /** The handler's signal; see TaskContext.signal. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get leaseDeadlineMs(): number {
    return this.deadlineMs;
  }

  /** True once the server said the lease is gone (404/409): reporting an outcome is pointless. */
  get lost(): boolean {
    return this.lostFlag;
  }

  /** Aborts the handler's signal (first cause wins). */
  abort(kind: TaskAbortCause, message: string): void {
    const signal = this.signal;
    if (!signal.aborted) this.controller!.abort(new TaskAbortedError(kind, message));
  }

  /** Marks the lease lost and aborts the handler. */
  markLost(): void {
    this.lostFlag = true;
    this.close();
    this.abort("lease-lost", `the server no longer holds this worker's lease on task ${this.task.id}`);
  }

  /** The lease watch found the deadline passed (see WatchedLease). */
  expire(): void {
    if (this.closed) return;
    this.close();
    this.abort("lease-expired", `the lease on task ${this.task.id} expired without a heartbeat extending it`);
  }

  /** Queues a throttled heartbeat; never rejects (see TaskContext.heartbeat). */
  heartbeat(details?: unknown): Promise<void> {
    if (!this.heartbeats) {
      const controller = (this.closedController = new AbortController());
      if (this.closed) controller.abort(LEASE_CLOSED);
      const windowMs = heartbeatThrottleMs(this.task.heartbeatTimeoutMs);
      this.heartbeats = new HeartbeatThrottle(windowMs, this.deps.clock, (sent) => this.send(sent), controller.signal);
    }
    return this.heartbeats.record(details);
  }

  /** Sends heartbeat details the throttle still holds; call before reporting the outcome. */
  flushHeartbeats(): Promise<void> {
    return this.heartbeats?.flush() ?? Promise.resolve();
  }

  /** Stops watching the deadline and heartbeats; call once the outcome has been reported. */
  release(): void {
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.leases.delete(this);
    this.closedController?.abort(LEASE_CLOSED);
  }

  private async send(details: unknown): Promise<void> {
    const { client, health, log } = this.deps;
    try {
      const answer = await client.heartbeat(this.task.id, this.task.leaseToken, details);
      health.markReachable();
      const nextMs = Date.parse(answer.leaseDeadline);
      if (Number.isFinite(nextMs)) this.deadlineMs = nextMs;
      if (answer.cancelRequested && !this.signal.aborted) {
        log.info("cancellation requested; aborting the handler", { taskId: this.task.id, type: this.task.type });
        this.abort("cancel-requested", `cancellation of task ${this.task.id} was requested`);
      }
    } catch (error) {
      if (isLeaseLost(error)) {
        health.markReachable();
        this.markLost();
        log.warn("lease lost; aborting the handler", { taskId: this.task.id, type: this.task.type });
      } else if (error instanceof TqdUnreachableError) {
        health.markUnreachable(error);
      } else {
        log.warn("heartbeat failed", { taskId: this.task.id, error: describeError(error) });
      }
    }
  }
}
