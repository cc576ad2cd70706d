/**
 * One long-poll loop per queue. Each turn reserves free slots from the shared pool (at most
 * `maxPerPoll`, so one queue's idle long poll cannot hold every slot while another queue has
 * work), then, under `--rate`, as many tokens of the worker's rate limit as it can get for them
 * (waiting for one if there is none), asks the server for that many tasks of the types this
 * worker handles, starts what it got and returns the slots and tokens it did not fill. Errors
 * never end the loop; only `stop` does.
 */
import { TqdApiError, TqdUnreachableError } from "../client/index.ts";
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask, PollRequest } from "../protocol/index.ts";
import { backoffDelayMs } from "./backoff.ts";
import type { ServerHealth } from "./server-health.ts";
import type { SlotPool } from "./slot-pool.ts";
import type { TaskRateLimit } from "./task-rate-limit.ts";
import { describeError } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

export interface PollLoopDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  health: ServerHealth;
  pool: SlotPool;
  identity: string;
  /** The machine's name, sent with every poll (shown by `tqd describe`). */
  host: string | undefined;
  /** A queue rate this worker declares (`--queue-rate`, e.g. `10/s`), sent with every poll. */
  queueRate: string | undefined;
  /** The worker-local limit (`--rate`), shared by all loops; undefined: unlimited. */
  rateLimit: TaskRateLimit | undefined;
  types: readonly string[];
  /** Most slots one poll of this loop may reserve. */
  maxPerPoll: number;
  /** How long the server may hold an empty poll, in ms. */
  pollWaitMs: number;
  random: () => number;
  /** Aborted when the worker stops polling; also aborts an in-flight poll. */
  stop: AbortSignal;
  /** Starts a leased task; the task must release its slot to `pool` when it has been reported. */
  startTask(task: LeasedTask): void;
}

/** Polls `queue` until `deps.stop` aborts. */
export async function runPollLoop(queue: string, deps: PollLoopDeps): Promise<void> {
  const { stop } = deps;
  const errors = new PollErrorLog(queue, deps);
  const request = pollRequestFor(deps);
  while (!stop.aborted) {
    const reserved = await reserveCapacity(deps);
    if (reserved === 0) break;
    let tasks: LeasedTask[];
    try {
      tasks = await deps.client.poll(queue, { ...request, max: reserved }, stop);
    } catch (error) {
      returnCapacity(deps, reserved);
      if (stop.aborted) break;
      await errors.failed(error);
      continue;
    }
    errors.succeeded();
    if (tasks.length < reserved) returnCapacity(deps, reserved - tasks.length);
    else adoptExtra(deps, tasks.length - reserved);
    for (const task of tasks) deps.startTask(task);
  }
}

/** The fields every poll of this loop sends; `max` is set per poll. */
function pollRequestFor(deps: PollLoopDeps): PollRequest {
  const request: PollRequest = { identity: deps.identity, types: [...deps.types], waitMs: deps.pollWaitMs };
  if (deps.host !== undefined) request.host = deps.host;
  if (deps.queueRate !== undefined) request.queueRate = deps.queueRate;
  return request;
}

/**
 * Reserves free slots (waiting for one), then as many rate tokens as it can get for them
 * (waiting for one); returns how many tasks the next poll may ask for, 0 once stopped.
 */
async function reserveCapacity(deps: PollLoopDeps): Promise<number> {
  const slots = await deps.pool.reserve(deps.maxPerPoll, deps.stop);
  if (slots === 0 || !deps.rateLimit) return slots;
  const tokens = await deps.rateLimit.take(slots, deps.stop);
  if (tokens < slots) deps.pool.release(slots - tokens);
  return tokens;
}

/** Gives back slots and tokens that no task is using. */
function returnCapacity(deps: PollLoopDeps, count: number): void {
  deps.pool.release(count);
  deps.rateLimit?.refund(count);
}

/** Counts tasks a server handed out beyond what was asked (they are leased, so they run). */
function adoptExtra(deps: PollLoopDeps, count: number): void {
  deps.pool.adopt(count);
  deps.rateLimit?.spend(count);
}

/** Backoff and log de-duplication for one loop's failed polls. */
class PollErrorLog {
  private failures = 0;
  private lastLogged: string | undefined;

  constructor(
    private readonly queue: string,
    private readonly deps: PollLoopDeps,
  ) {}

  succeeded(): void {
    this.deps.health.markReachable();
    this.failures = 0;
    this.lastLogged = undefined;
  }

  /** Logs the error unless it repeats the previous one, then waits out the backoff. */
  async failed(error: unknown): Promise<void> {
    const { health, log, clock } = this.deps;
    if (error instanceof TqdUnreachableError) {
      health.markUnreachable(error);
    } else {
      if (error instanceof TqdApiError) health.markReachable();
      const text = describeError(error);
      // A refused poll (bad token, invalid name) repeats every turn; say it once until it changes.
      if (text !== this.lastLogged) log.error("poll failed; retrying with backoff", { queue: this.queue, error: text });
      this.lastLogged = text;
    }
    await clock.sleep(backoffDelayMs(this.failures++, this.deps.random), this.deps.stop);
  }
}
