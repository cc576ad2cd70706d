/**
 * The `ctx` a handler gets. A class, not an object literal: a literal with getters defined its
 * accessors anew for every task, and building it was 10 % of the worker's CPU samples in a
 * drain (self time of the function that built it). Here the getters live on the prototype, the
 * headers are copied and frozen only when read, and `heartbeat` and `completeLater` are bound
 * on first read, so `const { heartbeat } = ctx` keeps working.
 */
import { encodeCompletionToken, type LeasedTask } from "../protocol/index.ts";
import type { TaskContext } from "./handler-api.ts";
import type { TaskLease } from "./lease.ts";

/** The worker's own queues for the base queue a task came from (`ctx.hostQueue`, `ctx.workerQueue`). */
export interface OwnQueues {
  hostQueue: string;
  workerQueue: string;
}

export class HandlerContext implements TaskContext {
  private frozenHeaders: Readonly<Record<string, string>> | undefined;
  private completionToken: string | undefined;
  private boundHeartbeat: ((details?: unknown) => Promise<void>) | undefined;
  private boundCompleteLater: (() => string) | undefined;

  constructor(
    private readonly task: LeasedTask,
    private readonly own: OwnQueues,
    private readonly lease: TaskLease,
  ) {}

  get taskId(): string {
    return this.task.id;
  }

  get queue(): string {
    return this.task.queue;
  }

  get type(): string {
    return this.task.type;
  }

  get attempt(): number {
    return this.task.attempt;
  }

  get lastHeartbeat(): unknown {
    return this.task.lastHeartbeat;
  }

  get headers(): Readonly<Record<string, string>> {
    return (this.frozenHeaders ??= Object.freeze({ ...this.task.headers }));
  }

  get hostQueue(): string {
    return this.own.hostQueue;
  }

  get workerQueue(): string {
    return this.own.workerQueue;
  }

  /** The lease's signal: its controller is made only for a handler that reads it. */
  get signal(): AbortSignal {
    return this.lease.signal;
  }

  get leaseDeadline(): Date {
    return new Date(this.lease.leaseDeadlineMs);
  }

  get heartbeat(): (details?: unknown) => Promise<void> {
    return (this.boundHeartbeat ??= (details?: unknown) => this.lease.heartbeat(details));
  }

  get completeLater(): () => string {
    return (this.boundCompleteLater ??= () => (this.completionToken ??= encodeCompletionToken({ taskId: this.task.id, leaseToken: this.task.leaseToken })));
  }

  /** The handler called `completeLater()`: the token's holder finishes the task. */
  get handedOff(): boolean {
    return this.completionToken !== undefined;
  }
}
