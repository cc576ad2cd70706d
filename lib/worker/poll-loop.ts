/**
 * One long-poll loop per queue. Each turn reserves free slots from the shared pool (at most
 * `maxPerPoll`, so one queue's idle long poll cannot hold every slot while another queue has
 * work), asks the server for that many tasks of the types this worker handles, starts what it
 * got and returns the slots it did not fill. Errors never end the loop; only `stop` does.
 */
import { TqdApiError, TqdUnreachableError } from "../client/index.ts";
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask } from "../protocol/index.ts";
import { backoffDelayMs } from "./backoff.ts";
import type { ServerHealth } from "./server-health.ts";
import type { SlotPool } from "./slot-pool.ts";
import { describeError } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

export interface PollLoopDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  health: ServerHealth;
  pool: SlotPool;
  identity: string;
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
  const { pool, stop } = deps;
  const errors = new PollErrorLog(queue, deps);
  while (!stop.aborted) {
    const reserved = await pool.reserve(deps.maxPerPoll, stop);
    if (reserved === 0) break;
    let tasks: LeasedTask[];
    try {
      tasks = await deps.client.poll(
        queue,
        { identity: deps.identity, types: [...deps.types], max: reserved, waitMs: deps.pollWaitMs },
        stop,
      );
    } catch (error) {
      pool.release(reserved);
      if (stop.aborted) break;
      await errors.failed(error);
      continue;
    }
    errors.succeeded();
    if (tasks.length < reserved) pool.release(reserved - tasks.length);
    else pool.adopt(tasks.length - reserved);
    for (const task of tasks) deps.startTask(task);
  }
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
