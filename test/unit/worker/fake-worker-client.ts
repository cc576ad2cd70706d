/**
 * A hand-written WorkerClient for the worker's unit tests. Polls stay pending until the test
 * answers them (like a long poll); complete, fail, heartbeat, leave and release answer through
 * replaceable behaviours. Like the server, the default leave answers the worker's open polls of
 * that queue empty. Every call is recorded and can be awaited, so tests wait on events, not time.
 *
 * Polls of base queues go to `polls`; polls of the worker's own host and worker queues
 * (`Q@host:H`, `Q@worker:ID`) go to `ownPolls`, so tests about one queue read like before.
 */
import {
  baseQueueOf,
  type HeartbeatResponse,
  type LeasedTask,
  type PollRequest,
  type ReleaseItem,
  type ReleaseItemResult,
  type SettleItem,
  type SettleItemResult,
  type SettleResponse,
  type TaskError,
  type WorkflowHistoryResponse,
  type WorkflowTaskCompleteRequest,
  type WorkflowTaskCompleteResponse,
} from "../../../lib/protocol/index.ts";
import type { WorkerClient } from "../../../lib/worker/index.ts";

export interface PollCall {
  queue: string;
  request: PollRequest;
  signal: AbortSignal | undefined;
  answer(tasks: LeasedTask[]): void;
  refuse(error: unknown): void;
  /** True once answered, refused or aborted. */
  readonly settled: boolean;
}

export interface CompleteCall {
  id: string;
  leaseToken: string;
  result: unknown;
}
export interface FailCall {
  id: string;
  leaseToken: string;
  error: TaskError;
}
export interface HeartbeatCall {
  id: string;
  leaseToken: string;
  details: unknown;
}

/** Recorded calls of one kind, awaitable in order. */
export class CallLog<Call> {
  readonly calls: Call[] = [];
  private taken = 0;
  private readonly waiters = new Set<() => void>();

  record(call: Call): void {
    this.calls.push(call);
    for (const wake of [...this.waiters]) wake();
  }

  /** The oldest call not yet returned by `next()`, waiting for it if needed. */
  async next(): Promise<Call> {
    await this.until(() => this.calls.length > this.taken);
    return this.calls[this.taken++]!;
  }

  /** Resolves once `predicate` holds, re-checking after each recorded call. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
      });
    }
  }
}

export interface SettleBatchCall {
  items: SettleItem[];
}

export interface LeaveCall {
  queue: string;
  identity: string;
}
export interface ReleaseCall {
  tasks: ReleaseItem[];
}
export interface HistoryCall {
  id: string;
  after: number | undefined;
}
export interface TaskCompleteCall {
  id: string;
  request: WorkflowTaskCompleteRequest;
}

export class FakeWorkerClient implements WorkerClient {
  readonly polls = new CallLog<PollCall>();
  readonly ownPolls = new CallLog<PollCall>();
  /** Every poll, base and own, in the order they were sent. */
  readonly allPolls = new CallLog<PollCall>();
  readonly completes = new CallLog<CompleteCall>();
  readonly fails = new CallLog<FailCall>();
  readonly heartbeats = new CallLog<HeartbeatCall>();
  readonly leaves = new CallLog<LeaveCall>();
  readonly histories = new CallLog<HistoryCall>();
  readonly taskCompletes = new CallLog<TaskCompleteCall>();
  completeBehaviour: (call: CompleteCall) => Promise<SettleResponse> = async (call) => ({ id: call.id, state: "completed" });
  failBehaviour: (call: FailCall) => Promise<SettleResponse> = async (call) => ({ id: call.id, state: "pending" });
  heartbeatBehaviour: (call: HeartbeatCall) => Promise<HeartbeatResponse> = async () => {
    throw new Error("the test set no heartbeat behaviour");
  };
  leaveBehaviour: (call: LeaveCall) => Promise<{ queue: string; identity: string; left: boolean }> = async (call) => {
    for (const poll of [...this.openPolls, ...this.openOwnPolls]) if (poll.queue === call.queue && poll.request.identity === call.identity) poll.answer([]);
    return { ...call, left: true };
  };
  readonly releases = new CallLog<ReleaseCall>();
  releaseBehaviour: (call: ReleaseCall) => Promise<ReleaseItemResult[]> = async (call) => call.tasks.map((task) => ({ id: task.id, released: true }));
  readonly batches = new CallLog<SettleBatchCall>();
  /** Batched outcomes (`POST /v1/tasks/complete`); undefined until `acceptBatches()`, so the worker reports each outcome alone. */
  settleBatch?: (items: SettleItem[], signal?: AbortSignal, onOrdered?: () => void) => Promise<SettleItemResult[]>;
  /** Set by `acceptBatches`: whether batches go over an ordered channel. */
  ordersOutcomes?: () => boolean;

  /**
   * Makes the fake take batched outcomes, answered by `behaviour` (default: every item settled).
   * `ordered`: the fake acts as the worker stream, which calls `onOrdered` once a batch is sent.
   */
  acceptBatches(
    behaviour: (call: SettleBatchCall) => Promise<SettleItemResult[]> = async (call) =>
      call.items.map((item) => ({ id: item.id, state: "error" in item ? "pending" : "completed" })),
    { ordered = false }: { ordered?: boolean } = {},
  ): void {
    this.ordersOutcomes = () => ordered;
    this.settleBatch = (items, _signal, onOrdered) => {
      const call = { items };
      this.batches.record(call);
      const answer = behaviour(call);
      if (ordered) onOrdered?.();
      return answer;
    };
  }
  historyBehaviour: (call: HistoryCall) => Promise<WorkflowHistoryResponse> = async () => {
    throw new Error("the test set no history behaviour");
  };
  taskCompleteBehaviour: (call: TaskCompleteCall) => Promise<WorkflowTaskCompleteResponse> = async () => {
    throw new Error("the test set no task-complete behaviour");
  };

  poll(queue: string, request: PollRequest, signal?: AbortSignal): Promise<LeasedTask[]> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = () => (settled = true);
      const call: PollCall = {
        queue,
        request,
        signal,
        answer: (tasks) => void (settle(), resolve(tasks)),
        refuse: (error) => void (settle(), reject(error)),
        get settled() {
          return settled;
        },
      };
      const abort = () => call.refuse(new DOMException("The operation was aborted.", "AbortError"));
      // As fetch does, a signal aborted already refuses at once.
      if (signal?.aborted) queueMicrotask(abort);
      else signal?.addEventListener("abort", abort, { once: true });
      (baseQueueOf(queue) === queue ? this.polls : this.ownPolls).record(call);
      this.allPolls.record(call);
    });
  }

  complete(id: string, leaseToken: string, result?: unknown): Promise<SettleResponse> {
    const call = { id, leaseToken, result };
    this.completes.record(call);
    return this.completeBehaviour(call);
  }

  fail(id: string, leaseToken: string, error: TaskError): Promise<SettleResponse> {
    const call = { id, leaseToken, error };
    this.fails.record(call);
    return this.failBehaviour(call);
  }

  heartbeat(id: string, leaseToken: string, details?: unknown): Promise<HeartbeatResponse> {
    const call = { id, leaseToken, details };
    this.heartbeats.record(call);
    return this.heartbeatBehaviour(call);
  }

  leave(queue: string, identity: string): Promise<{ queue: string; identity: string; left: boolean }> {
    const call = { queue, identity };
    this.leaves.record(call);
    return this.leaveBehaviour(call);
  }

  release(tasks: ReleaseItem[]): Promise<ReleaseItemResult[]> {
    const call = { tasks };
    this.releases.record(call);
    return this.releaseBehaviour(call);
  }

  workflowHistory(id: string, after?: number): Promise<WorkflowHistoryResponse> {
    const call = { id, after };
    this.histories.record(call);
    return this.historyBehaviour(call);
  }

  completeWorkflowTask(id: string, request: WorkflowTaskCompleteRequest): Promise<WorkflowTaskCompleteResponse> {
    const call = { id, request };
    this.taskCompletes.record(call);
    return this.taskCompleteBehaviour(call);
  }

  /** Polls of base queues not yet answered or aborted. */
  get openPolls(): PollCall[] {
    return this.polls.calls.filter((call) => !call.settled);
  }

  /** Polls of host and worker queues not yet answered or aborted. */
  get openOwnPolls(): PollCall[] {
    return this.ownPolls.calls.filter((call) => !call.settled);
  }
}
