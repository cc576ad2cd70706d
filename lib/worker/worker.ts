/**
 * The worker runtime behind `tqd work`, with every outside dependency injected (client, clock,
 * logger, handlers) so tests drive it without a process or a server.
 *
 * Lifecycle: `start()` launches one poll loop per queue over a shared slot pool. `stop()` then
 * runs three phases, each bounded so the process always exits:
 *   1. stop polling: abort in-flight polls; running tasks go on;
 *   2. drain: wait up to `graceMs` for running handlers to finish and be reported;
 *   3. abandon: abort the signals of handlers still running, report them failed (`WorkerStopped`)
 *      and wait at most `FINAL_REPORT_MS` more for those reports, then give up on them (the
 *      server re-queues those tasks when their leases expire).
 */
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import { DEFAULT_POLL_WAIT_MS, type LeasedTask } from "../protocol/index.ts";
import type { HandlerMap } from "./handler-api.ts";
import { runPollLoop } from "./poll-loop.ts";
import { ServerHealth } from "./server-health.ts";
import { SlotPool } from "./slot-pool.ts";
import { runTask } from "./task-runner.ts";
import type { WorkerClient } from "./worker-client.ts";

/** How long phase 3 of `stop()` waits for the failure reports of abandoned handlers. */
export const FINAL_REPORT_MS = 5_000;
export const DEFAULT_CONCURRENCY = 10;
export const DEFAULT_GRACE_MS = 30_000;

export interface WorkerOptions {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  /** Task type -> handler; the keys are the types every poll names. */
  handlers: HandlerMap;
  queues: readonly string[];
  /** Most tasks running at once, across all queues. */
  concurrency: number;
  /** Shown by the server as the holder of each lease. */
  identity: string;
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

export interface Worker {
  /** Starts polling; resolves once the loops are running. */
  start(): Promise<void>;
  /** Stops polling and drains (see the header); every call returns the same promise. */
  stop(options?: StopOptions): Promise<StopReport>;
  /** Tasks currently leased by this worker (running or being reported). */
  readonly runningTasks: number;
}

/** Builds a worker; nothing happens until `start()`. */
export function createWorker(options: WorkerOptions): Worker {
  const { clock, log, queues, concurrency } = options;
  const types = Object.keys(options.handlers);
  if (queues.length === 0) throw new RangeError("a worker needs at least one queue");
  if (types.length === 0) throw new RangeError("a worker needs at least one handler");
  const random = options.random ?? Math.random;
  const pool = new SlotPool(concurrency);
  const health = new ServerHealth(log, () => clock.now());
  const stopPolling = new AbortController();
  const abandon = new AbortController();
  const giveUp = new AbortController();
  const graceCut = new AbortController();
  const running = new Set<Promise<void>>();
  let loops: Promise<void>[] | undefined;
  let stopping: Promise<StopReport> | undefined;

  const taskDeps = { client: options.client, clock, log, health, random, handlers: options.handlers, abandon: abandon.signal, giveUp: giveUp.signal };
  const startTask = (task: LeasedTask) => {
    const run = runTask(task, taskDeps).finally(() => {
      running.delete(run);
      pool.release(1);
    });
    running.add(run);
  };

  async function drain(graceMs: number): Promise<StopReport> {
    stopPolling.abort();
    await Promise.all(loops ?? []);
    log.info("worker stopping", { runningTasks: running.size, graceMs });
    const drained = await settledWithin(clock, [...running], graceMs, graceCut.signal);
    const abandoned = drained ? 0 : running.size;
    if (!drained) {
      log.warn("grace period over; aborting the handlers still running", { runningTasks: abandoned });
      abandon.abort();
      await settledWithin(clock, [...running], FINAL_REPORT_MS, giveUp.signal);
      giveUp.abort();
    }
    log.info("worker stopped", { abandoned });
    return { abandoned };
  }

  return {
    async start() {
      if (loops) throw new Error("the worker was already started");
      const maxPerPoll = Math.max(1, Math.ceil(concurrency / queues.length));
      const pollWaitMs = options.pollWaitMs ?? DEFAULT_POLL_WAIT_MS;
      const loopDeps = { ...taskDeps, pool, identity: options.identity, types, maxPerPoll, pollWaitMs, stop: stopPolling.signal, startTask };
      loops = queues.map((queue) => runPollLoop(queue, loopDeps));
      log.info("worker started", { identity: options.identity, queues: [...queues], types, concurrency });
    },
    stop(stopOptions = {}) {
      if (stopOptions.graceMs === 0) graceCut.abort();
      stopping ??= drain(stopOptions.graceMs ?? options.graceMs);
      return stopping;
    },
    get runningTasks() {
      return running.size;
    },
  };
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
