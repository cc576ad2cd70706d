/**
 * The worker runtime behind `tqd work`, with every outside dependency injected (client, clock,
 * logger, handlers) so tests drive it without a process or a server.
 *
 * Lifecycle: `start()` launches three poll loops per queue Q (Q itself, its host queue
 * `Q@host:HOST` and its worker queue `Q@worker:IDENTITY`) over a shared slot pool (and, under
 * `--rate`, a shared token bucket). `stop()` then runs three phases, each bounded so the process
 * always exits:
 *   1. stop polling: abort in-flight polls; running tasks go on. (A poll aborted while the
 *      server's answer is already on the wire loses those tasks until their leases expire; the
 *      server gives tasks back only when it sees the abort before answering. HTTP long polls
 *      cannot close that window without a protocol change, and it is milliseconds wide.)
 *      Then tell the server this worker left each queue, so `tqd describe` drops it at once
 *      instead of after the poller expiry; best effort, at most `LEAVE_TIMEOUT_MS`, alongside
 *      phase 2.
 *   2. drain: wait up to `graceMs` for running handlers to finish and be reported;
 *   3. abandon: abort the signals of handlers still running and wait at most `FINAL_REPORT_MS`
 *      for them to unwind. They are not reported: a failure would be final, so the server
 *      re-queues those tasks when their leases expire and they run again as the next attempt.
 *      Held sessions are ended now, reported failed (see workflow/session-holders.ts), within
 *      the same `FINAL_REPORT_MS`.
 *
 * Workflows: the types the loops name include `tqd.workflow:<Type>` for each workflow of the
 * handlers module; such a task takes a slot while workflow/workflow-task-runner.ts answers it,
 * with the sticky cache of executions shared by all loops. Base-queue loops also lease session
 * holders while the worker holds fewer than `maxSessions` (see poll-loop.ts).
 */
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import { DEFAULT_POLL_WAIT_MS, hostQueueName, LIMITS, workerQueueName, workflowTaskType, workflowTypeOfTask, type LeasedTask } from "../protocol/index.ts";
import { AckBatcher } from "./ack-batcher.ts";
import type { HandlerMap } from "./handler-api.ts";
import { runPollLoop, type PollLoop, type PollLoopDeps } from "./poll-loop.ts";
import { ServerHealth } from "./server-health.ts";
import { SlotPool } from "./slot-pool.ts";
import { describeError } from "./task-outcome.ts";
import { TaskRateLimit } from "./task-rate-limit.ts";
import { runTask, type TaskRunnerDeps } from "./task-runner.ts";
import type { WorkerClient } from "./worker-client.ts";
import { DEFAULT_WORKFLOW_CACHE_SIZE, ExecutionCache } from "./workflow/execution-cache.ts";
import { SessionHolders } from "./workflow/session-holders.ts";
import type { WorkflowMap } from "./workflow/workflow-api.ts";
import { runWorkflowTask, type WorkflowTaskDeps } from "./workflow/workflow-task-runner.ts";

/** How long phase 3 of `stop()` waits for abandoned handlers to unwind. */
export const FINAL_REPORT_MS = 5_000;
/** How long `stop()` waits for the server to acknowledge that the worker left its queues. */
export const LEAVE_TIMEOUT_MS = 1_000;
export const DEFAULT_CONCURRENCY = 10;
export const DEFAULT_GRACE_MS = 30_000;

export interface WorkerOptions {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  /** Task type -> handler; the keys are the types every poll names. */
  handlers: HandlerMap;
  /** Workflow type -> workflow function; polls name `tqd.workflow:<Type>` for each. */
  workflows?: WorkflowMap;
  /** Most executions kept for sticky execution (`--workflow-cache`); default 500, 0 keeps none. */
  workflowCacheSize?: number;
  /** Most sessions held at once (`--max-sessions`); absent or 0: the worker holds none. */
  maxSessions?: number;
  /** Base queues; the worker also polls each one's host queue and worker queue. */
  queues: readonly string[];
  /** Most tasks running at once, across all queues. */
  concurrency: number;
  /** Shown by the server as the holder of each lease; also names the worker queues. */
  identity: string;
  /** The machine's name: names the host queues, and is sent with every poll (shown by `tqd describe`). */
  host: string;
  /** A queue rate this worker declares on every poll (`--queue-rate`, e.g. `10/s`). */
  queueRate?: string;
  /** Worker-local limit in tasks per second (`--rate`), across all queues; absent: unlimited. */
  ratePerSecond?: number;
  /** How long `stop()` lets running handlers finish, in ms. */
  graceMs: number;
  /** How long the server may hold an empty poll, in ms; default 30 s. */
  pollWaitMs?: number;
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number;
}

export interface StopOptions {
  /** Overrides the grace period; 0 (e.g. on a second Ctrl-C) cuts a drain in progress short. */
  graceMs?: number;
}

export interface StopReport {
  /** Handlers still running when the grace period ended. */
  abandoned: number;
}

export interface Worker extends AsyncDisposable {
  /** Starts polling; resolves once the loops are running. */
  start(): Promise<void>;
  /** Stops polling and drains (see the header); every call returns the same promise. */
  stop(options?: StopOptions): Promise<StopReport>;
  /** Tasks currently leased by this worker (running or being reported). */
  readonly runningTasks: number;
  /** Sessions this worker holds (see workflow/session-holders.ts). */
  readonly heldSessions: number;
  /** `stop()`, for `await using worker = createWorker(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Builds a worker; nothing happens until `start()`. */
export function createWorker(options: WorkerOptions): Worker {
  return new PollingWorker(options);
}

class PollingWorker implements Worker {
  private readonly pool: SlotPool;
  private readonly rateLimit: TaskRateLimit | undefined;
  private readonly types: readonly string[];
  private readonly taskDeps: TaskRunnerDeps;
  private readonly workflowDeps: WorkflowTaskDeps;
  /** Undefined when the worker holds no sessions. */
  private readonly sessions: SessionHolders | undefined;
  /** Phase 1 of stop: ends the poll loops and aborts their in-flight polls. */
  private readonly stopPolling = new AbortController();
  /** Phase 3 of stop: aborts handlers still running after the grace period. */
  private readonly abandon = new AbortController();
  /** End of phase 3: report retries stop. */
  private readonly giveUp = new AbortController();
  /** `stop({graceMs: 0})` during phase 2 ends the grace period early. */
  private readonly graceCut = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private loops: Promise<void>[] | undefined;
  private stopping: Promise<StopReport> | undefined;

  constructor(private readonly options: WorkerOptions) {
    const workflows = options.workflows ?? {};
    this.types = [...Object.keys(options.handlers), ...Object.keys(workflows).map(workflowTaskType)];
    if (options.queues.length === 0) throw new RangeError("a worker needs at least one queue");
    if (this.types.length === 0) throw new RangeError("a worker needs at least one handler or workflow");
    // Base-queue polls add tqd.session to the types.
    if (this.types.length + 1 > LIMITS.pollTypes) throw new RangeError(`a worker handles at most ${LIMITS.pollTypes - 1} task and workflow types`);
    this.pool = new SlotPool(options.concurrency, () => options.clock.now());
    const { client, clock, log, handlers } = options;
    this.rateLimit = options.ratePerSecond === undefined ? undefined : new TaskRateLimit(options.ratePerSecond, clock);
    const health = new ServerHealth(log, () => clock.now());
    const random = options.random ?? Math.random;
    // Outcomes that finish together share one request and one commit on the server.
    const acks = new AckBatcher(client);
    this.taskDeps = { client, clock, log, health, random, handlers, acks, abandon: this.abandon.signal, giveUp: this.giveUp.signal };
    const cache = new ExecutionCache(options.workflowCacheSize ?? DEFAULT_WORKFLOW_CACHE_SIZE);
    this.workflowDeps = { ...this.taskDeps, workflows, cache };
    const maxSessions = options.maxSessions ?? 0;
    this.sessions = maxSessions > 0 ? new SessionHolders(maxSessions, { ...this.taskDeps, identity: options.identity }) : undefined;
  }

  get runningTasks(): number {
    return this.running.size;
  }

  get heldSessions(): number {
    return this.sessions?.held ?? 0;
  }

  async start(): Promise<void> {
    if (this.loops) throw new Error("the worker was already started");
    const { queues, concurrency, identity, log } = this.options;
    const loopDeps: PollLoopDeps = {
      ...this.taskDeps,
      identity,
      host: this.options.host,
      queueRate: this.options.queueRate,
      rateLimit: this.rateLimit,
      types: this.types,
      pollWaitMs: this.options.pollWaitMs ?? DEFAULT_POLL_WAIT_MS,
      stop: this.stopPolling.signal,
      startTask: (task, loop) => this.startTask(task, loop),
    };
    this.loops = this.pollLoops().map((loop) => runPollLoop(loop, loopDeps));
    log.info("worker started", {
      identity,
      host: this.options.host,
      queues: [...queues],
      types: this.types,
      concurrency,
      ...(this.rateLimit ? { rate: this.rateLimit.ratePerSecond } : {}),
      ...(this.options.queueRate ? { queueRate: this.options.queueRate } : {}),
      ...(this.sessions ? { maxSessions: this.sessions.capacity } : {}),
    });
  }

  stop(stopOptions: StopOptions = {}): Promise<StopReport> {
    if (stopOptions.graceMs === 0) this.graceCut.abort();
    this.stopping ??= this.drain(stopOptions.graceMs ?? this.options.graceMs);
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Every queue polled: for each base queue, itself, its host queue and its worker queue. Base
   * queues come first, so with fewer slots than loops they are the first to poll.
   */
  private pollLoops(): PollLoop[] {
    const { queues, host, identity } = this.options;
    const own = queues.map((base) => ({ hostQueue: hostQueueName(base, host), workerQueue: workerQueueName(base, identity) }));
    const loop = (queue: string, index: number): PollLoop => {
      const base = queue === queues[index];
      return { queue, slots: this.pool.open(), ...own[index]!, declaresQueueRate: base, sessions: base ? this.sessions : undefined };
    };
    return [
      ...queues.map((base, index) => loop(base, index)),
      ...own.flatMap((names, index) => [loop(names.hostQueue, index), loop(names.workerQueue, index)]),
    ];
  }

  /** The names of every queue polled, for leaving them at shutdown. */
  private polledQueues(): string[] {
    const { queues, host, identity } = this.options;
    return queues.flatMap((base) => [base, hostQueueName(base, host), workerQueueName(base, identity)]);
  }

  private startTask(task: LeasedTask, loop: PollLoop): void {
    const started =
      workflowTypeOfTask(task.type) === undefined
        ? runTask(task, { hostQueue: loop.hostQueue, workerQueue: loop.workerQueue }, this.taskDeps)
        : runWorkflowTask(task, this.workflowDeps);
    const run = started.finally(() => {
      this.running.delete(run);
      loop.slots.release(1);
    });
    this.running.add(run);
  }

  private async drain(graceMs: number): Promise<StopReport> {
    const { clock, log } = this.options;
    this.stopPolling.abort();
    await Promise.all(this.loops ?? []);
    const leaving = this.loops ? this.leaveQueues() : Promise.resolve();
    log.info("worker stopping", { runningTasks: this.running.size, heldSessions: this.heldSessions, graceMs });
    const drained = await settledWithin(clock, [...this.running], graceMs, this.graceCut.signal);
    const abandoned = drained ? 0 : this.running.size;
    if (!drained) {
      log.warn("grace period over; aborting the handlers still running", { runningTasks: abandoned });
      this.abandon.abort();
    }
    // Sessions end after the tasks: session activities that were running have reported first.
    const releasing = this.sessions && this.sessions.held > 0 ? this.sessions.releaseAll() : undefined;
    if (!drained || releasing) {
      await settledWithin(clock, [...this.running, ...(releasing ? [releasing] : [])], FINAL_REPORT_MS, this.giveUp.signal);
      this.giveUp.abort();
    }
    await leaving;
    log.info("worker stopped", { abandoned });
    return { abandoned };
  }

  /** Tells the server this worker stopped polling each queue; failures only cost a later expiry. */
  private async leaveQueues(): Promise<void> {
    const { client, clock, log, identity } = this.options;
    // Aborted after the time limit, so a hung server cannot keep the process alive.
    const giveUp = new AbortController();
    const leaves = this.polledQueues().map((queue) =>
      client.leave(queue, identity, giveUp.signal).then(
        () => undefined,
        (error: unknown) => log.debug("could not tell the server the worker left; it expires the poller itself", { queue, error: describeError(error) }),
      ),
    );
    const left = await settledWithin(clock, leaves, LEAVE_TIMEOUT_MS, new AbortController().signal);
    giveUp.abort();
    if (!left) log.debug("the server did not acknowledge the worker leaving in time; it expires the poller itself", { timeoutMs: LEAVE_TIMEOUT_MS });
  }
}

/** True if every promise settled within `ms`; false when time ran out or `cut` aborted first. */
async function settledWithin(clock: Clock, promises: Promise<unknown>[], ms: number, cut: AbortSignal): Promise<boolean> {
  if (promises.length === 0) return true;
  const timer = new AbortController();
  const all = Promise.allSettled(promises).then(() => true);
  const timeout = clock.sleep(ms, AbortSignal.any([timer.signal, cut])).then(() => false);
  const settled = await Promise.race([all, timeout]);
  timer.abort();
  return settled;
}
