/**
 * The worker runtime behind `tqd work`, with every outside dependency injected (client, clock,
 * logger, handlers) so tests drive it without a process or a server.
 *
 * Lifecycle: `start()` launches three poll loops per queue Q (Q itself, its host queue
 * `Q@host:HOST` and its worker queue `Q@worker:IDENTITY`) over a shared slot pool (and, under
 * `--rate`, a shared token bucket). `stop()` then runs three phases, each bounded so the process
 * always exits, and a graceful stop leaves no task `running` on the server without a worker:
 *   1. stop polling: the loops send no further poll, and the worker tells the server it left
 *      each queue (`POST .../pollers/leave`, at most `LEAVE_TIMEOUT_MS`), which answers its
 *      parked polls empty at once (and does not park its poll still on the way there). In-flight
 *      polls are NOT aborted: an aborted poll whose answer is already on the wire loses its tasks
 *      until their leases expire (the server gives tasks back only when it sees the abort before
 *      answering), and with a backlog a poll is nearly always in flight. So each poll comes back
 *      normally, and tasks it brings after stop began are leased to this worker: they are given
 *      back unstarted (`POST /v1/tasks/release`: pending again at once, the attempt uncounted),
 *      or run in the drain when the server cannot take them back (an older server, a failed
 *      request: see task-release.ts). Workflow tasks run in the drain (a replay is quick, and
 *      one given back would wait for its sticky queue's timeout); session holders are held,
 *      and end in phase 3. Last resort: polls still open after `POLL_RETURN_MS` (a server that
 *      answers neither leave nor poll) are aborted, with the old window.
 *   2. drain: wait, within what is left of `graceMs`, for running handlers to finish and be
 *      reported (outcomes still queued in the ack batcher included: a task leaves `running`
 *      only once its batch is answered);
 *   3. abandon: abort the signals of handlers still running and wait at most `FINAL_REPORT_MS`
 *      for them to unwind. They are not reported: a failure would be final, so the server
 *      re-queues those tasks when their leases expire and they run again as the next attempt.
 *      Held sessions are ended now, reported failed (see workflow/session-holders.ts), within
 *      the same `FINAL_REPORT_MS`.
 * A second stop with `graceMs: 0` aborts open polls and cuts phase 2 short.
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
import { releaseUnstarted } from "./task-release.ts";
import { TaskRateLimit } from "./task-rate-limit.ts";
import { LeaseWatch } from "./lease-watch.ts";
import { SignalFanout } from "./signal-fanout.ts";
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
/** How long phase 1 of `stop()` lets in-flight polls come back by themselves before aborting them. */
export const POLL_RETURN_MS = 2_000;
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
  /** Phase 1 of stop: the poll loops send no further poll. */
  private readonly stopPolling = new AbortController();
  /** Aborts the polls still in flight: phase 1's last resort, or a cut grace period. */
  private readonly abortPolls = new AbortController();
  /** Give-backs of tasks that polls brought after stop began (see `giveBack`). */
  private readonly returning = new Set<Promise<void>>();
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
    const leases = new LeaseWatch(clock);
    this.taskDeps = { client, clock, log, health, random, handlers, acks, abandon: new SignalFanout(this.abandon.signal), giveUp: this.giveUp.signal, leases };
    const cache = new ExecutionCache(options.workflowCacheSize ?? DEFAULT_WORKFLOW_CACHE_SIZE);
    this.workflowDeps = { ...this.taskDeps, abandon: this.abandon.signal, workflows, cache };
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
      abortPoll: this.abortPolls.signal,
      startTask: (task, loop) => this.startTask(task, loop),
      returnTasks: (tasks, loop) => this.returnTasks(tasks, loop),
      outcomesFreeSlotsWhenSent: () => this.options.client.ordersOutcomes?.() ?? false,
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
    if (stopOptions.graceMs === 0) {
      this.graceCut.abort();
      this.abortPolls.abort();
    }
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
    const polled = this.polledQueues();
    const loop = (queue: string, index: number): PollLoop => {
      const base = queue === queues[index];
      const yieldTo = polled.filter((name) => name !== queue).slice(0, LIMITS.pollYieldQueues);
      return { queue, slots: this.pool.open(base), ...own[index]!, base, yieldTo, sessions: base ? this.sessions : undefined };
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
    let slotHeld = true;
    const freeSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      loop.slots.release(1);
    };
    const started =
      workflowTypeOfTask(task.type) === undefined
        ? runTask(task, { hostQueue: loop.hostQueue, workerQueue: loop.workerQueue }, this.taskDeps, freeSlot)
        : runWorkflowTask(task, this.workflowDeps);
    // Still tracked until its report is answered: stop waits for outcomes in flight.
    const run = started.finally(() => {
      this.running.delete(run);
      freeSlot();
    });
    this.running.add(run);
  }

  /**
   * Tasks a poll brought after stop began (see the header): workflow tasks start, the others
   * go back to the server.
   */
  private returnTasks(tasks: LeasedTask[], loop: PollLoop): void {
    const back = tasks.filter((task) => workflowTypeOfTask(task.type) === undefined);
    for (const task of tasks) if (!back.includes(task)) this.startTask(task, loop);
    if (back.length === 0) return;
    const returning = this.giveBack(back, loop).finally(() => this.returning.delete(returning));
    this.returning.add(returning);
  }

  /** Releases `tasks` on the server; runs, in the drain, those it did not take back. */
  private async giveBack(tasks: LeasedTask[], loop: PollLoop): Promise<void> {
    const kept = await releaseUnstarted(tasks, loop.queue, this.options);
    for (const task of tasks) {
      if (kept.includes(task)) this.startTask(task, loop);
      else loop.slots.release(1);
    }
  }

  private async drain(graceMs: number): Promise<StopReport> {
    const { clock, log } = this.options;
    const stopStartedMs = clock.now();
    this.stopPolling.abort();
    const leaving = this.loops ? this.leaveQueues() : Promise.resolve();
    await this.pollsReturned();
    // Each give-back ends within RELEASE_TIMEOUT_MS, having released its tasks or started them.
    await Promise.all(this.returning);
    log.info("worker stopping", { runningTasks: this.running.size, heldSessions: this.heldSessions, graceMs });
    const graceLeftMs = Math.max(0, graceMs - (clock.now() - stopStartedMs));
    const drained = await settledWithin(clock, [...this.running], graceLeftMs, this.graceCut.signal);
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

  /** Waits for the poll loops to end; aborts the polls still open after `POLL_RETURN_MS`. */
  private async pollsReturned(): Promise<void> {
    const loops = this.loops ?? [];
    if (await settledWithin(this.options.clock, loops, POLL_RETURN_MS, this.abortPolls.signal)) return;
    if (!this.abortPolls.signal.aborted) {
      this.options.log.info("polls still open at stop; aborting them (a task leased to one comes back when its lease expires)", { timeoutMs: POLL_RETURN_MS });
      this.abortPolls.abort();
    }
    await Promise.all(loops);
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
