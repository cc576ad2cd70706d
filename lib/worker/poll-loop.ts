/**
 * One long-poll loop per polled queue (each of the worker's queues, its host queue and its
 * worker queue). Each turn reserves slots through the loop's account in the shared pool (see
 * slot-pool.ts for how many, and when the poll is a short one), then, under `--rate`, as many
 * tokens of the worker's rate limit as it can get for them (waiting for one if there is none),
 * asks the server for that many tasks of the types this worker handles, starts what it got and
 * returns the slots and tokens it did not fill. Errors never end the loop; only `stop` does.
 *
 * Session holders (`tqd.session`, see workflow/session-holders.ts) ride on the base-queue polls:
 * while the worker holds fewer than `--max-sessions` sessions, a base-queue poll reserves
 * session slots too, names `tqd.session` among its types and asks for no more tasks than it
 * has session slots, so holders never exceed the limit. A holder it brings gives its
 * concurrency slot (and rate token) back at once: a held session runs no code. Why not a loop
 * of its own: the server keeps one poller record per identity and queue (types, declared rate,
 * free slots, as describe and explain show them), so a second loop on the same base queue
 * naming only `tqd.session` would overwrite the worker's handler types there on every poll.
 *
 * Stopping (see worker.ts): once `stop` aborts, the loop sends no further poll, but the one in
 * flight is not aborted (`abortPoll` does that, only as a last resort): it comes back normally,
 * answered empty by the server when the worker leaves, and what it brings goes to
 * `returnTasks`, since its tasks are leased to this worker all the same.
 */
import { TqdApiError, TqdUnreachableError } from "../client/index.ts";
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import { SESSION_TASK_TYPE, type LeasedTask, type PollRequest } from "../protocol/index.ts";
import { backoffDelayMs } from "./backoff.ts";
import type { ServerHealth } from "./server-health.ts";
import { SHARED_POLL_WAIT_MS, type SlotAccount, type SlotGrant } from "./slot-pool.ts";
import type { TaskRateLimit } from "./task-rate-limit.ts";
import type { SessionHolders } from "./workflow/session-holders.ts";
import { describeError } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

export interface PollLoopDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  health: ServerHealth;
  identity: string;
  /** The machine's name, sent with every poll (shown by `tqd describe`). */
  host: string | undefined;
  /** A queue rate this worker declares (`--queue-rate`, e.g. `10/s`), sent with base-queue polls. */
  queueRate: string | undefined;
  /** The worker-local limit (`--rate`), shared by all loops; undefined: unlimited. */
  rateLimit: TaskRateLimit | undefined;
  types: readonly string[];
  /** How long the server may hold an empty poll that holds only the loop's own slot, in ms. */
  pollWaitMs: number;
  random: () => number;
  /** Aborted when the worker begins stopping: no further poll is sent (the one in flight goes on). */
  stop: AbortSignal;
  /** Aborts the poll in flight: only when stop's bound on in-flight polls runs out (see worker.ts). */
  abortPoll: AbortSignal;
  /** Starts a leased task; the task must release its slot to `loop.slots` when it has been reported. */
  startTask(task: LeasedTask, loop: PollLoop): void;
  /**
   * True while outcomes free their slots once sent (the worker stream): only then does the
   * next poll wait for the slots of tasks that end at once (see `SlotPool.reserve`). Over
   * HTTP they free at the answer, and waiting split the polls smaller (drain 20,600-21,500 ->
   * 17,100-17,900 tasks/s in 3 of 5 runs).
   */
  outcomesFreeSlotsWhenSent(): boolean;
  /** Takes the tasks of a poll answered after `stop` aborted; each must release its slot when done with. */
  returnTasks(tasks: LeasedTask[], loop: PollLoop): void;
}

/** One polled queue and what its tasks see. */
export interface PollLoop {
  queue: string;
  /** This loop's share of the worker's slot pool. */
  slots: SlotAccount;
  /** The host and worker queues of the base queue this loop serves (`ctx.hostQueue`, `ctx.workerQueue`). */
  hostQueue: string;
  workerQueue: string;
  /**
   * A queue the worker was given, not one of its host or worker queues: only base queues
   * declare `--queue-rate` (it limits the base queue), and only they park a slot the loops
   * take turns with (see `pollWaitOf`).
   */
  base: boolean;
  /**
   * The worker's other polled queues, at most LIMITS.pollYieldQueues: a base queue's parked
   * poll yields to them when the loops take turns (see the header of slot-pool.ts).
   */
  yieldTo: readonly string[];
  /** Base queues of a worker that holds sessions: their polls may bring session holders. */
  sessions?: SessionHolders | undefined;
}

/** Polls `loop.queue` until `deps.stop` aborts. */
export async function runPollLoop(loop: PollLoop, deps: PollLoopDeps): Promise<void> {
  const { stop } = deps;
  const errors = new PollErrorLog(loop.queue, deps);
  const request = pollRequestFor(loop, deps);
  const withSessions: PollRequest = { ...request, types: [...request.types, SESSION_TASK_TYPE] };
  let startedTasks = false;
  // A daemon older than `yieldTo` refuses the field (400): the loop then polls without it.
  let mayYield = true;
  while (!stop.aborted) {
    const grant = await reserveCapacity(loop.slots, deps, startedTasks);
    startedTasks = false;
    if (grant.count === 0) break;
    // Slots freed by a finishing task can be granted in the same turn as the stop.
    if (stop.aborted) {
      returnCapacity(loop.slots, deps, grant.count);
      break;
    }
    const sessionSlots = loop.sessions?.reserve(grant.count) ?? 0;
    const reserved = sessionSlots > 0 ? sessionSlots : grant.count;
    if (reserved < grant.count) returnCapacity(loop.slots, deps, grant.count - reserved);
    const waitMs = pollWaitOf(loop, grant, deps);
    const poll: PollRequest = { ...(sessionSlots > 0 ? withSessions : request), max: reserved, waitMs };
    // A parked poll on a slot the loops take turns with: the server ends it early when a task
    // for this worker is ready on another of its queues (a sticky workflow task, say).
    if (grant.takingTurns && waitMs > 0 && mayYield && loop.yieldTo.length > 0) poll.yieldTo = [...loop.yieldTo];
    let tasks: LeasedTask[];
    try {
      tasks = await deps.client.poll(loop.queue, poll, deps.abortPoll);
    } catch (error) {
      returnCapacity(loop.slots, deps, reserved);
      loop.sessions?.unreserve(sessionSlots);
      loop.slots.notePollResult(0);
      if (stop.aborted) break;
      if (poll.yieldTo !== undefined && error instanceof TqdApiError && error.status === 400) {
        mayYield = false;
        deps.log.info("the server does not take yielding polls (an older version); polling without", { queue: loop.queue });
        continue;
      }
      await errors.failed(error);
      continue;
    }
    errors.succeeded();
    const holders = sessionSlots > 0 ? tasks.filter((task) => task.type === SESSION_TASK_TYPE) : [];
    loop.slots.notePollResult(tasks.length - holders.length);
    if (tasks.length < reserved) returnCapacity(loop.slots, deps, reserved - tasks.length);
    else adoptExtra(loop.slots, deps, tasks.length - reserved);
    // A held session takes no slot and no rate token.
    if (holders.length > 0) returnCapacity(loop.slots, deps, holders.length);
    loop.sessions?.unreserve(sessionSlots - holders.length);
    // Holders brought after stop began are held too: stop ends every held session after the drain.
    for (const holder of holders) loop.sessions!.hold(holder);
    const work = holders.length > 0 ? tasks.filter((task) => !holders.includes(task)) : tasks;
    if (stop.aborted) {
      if (work.length > 0) deps.returnTasks(work, loop);
    } else {
      for (const task of work) deps.startTask(task, loop);
      startedTasks = work.length > 0 && deps.outcomesFreeSlotsWhenSent();
    }
  }
}

/** The fields every poll of this loop sends; `max` and `waitMs` are set per poll. */
function pollRequestFor(loop: PollLoop, deps: PollLoopDeps): PollRequest {
  const request: PollRequest = { identity: deps.identity, types: [...deps.types] };
  if (deps.host !== undefined) request.host = deps.host;
  if (deps.queueRate !== undefined && loop.base) request.queueRate = deps.queueRate;
  return request;
}

/**
 * Reserves slots (waiting for one), then as many rate tokens as it can get for them (waiting
 * for one); returns how many tasks the next poll may ask for, 0 once stopped. Right after
 * starting tasks, the grant waits for those that end at once (see `SlotPool.reserve`).
 */
async function reserveCapacity(slots: SlotAccount, deps: PollLoopDeps, afterStartingTasks: boolean): Promise<SlotGrant> {
  const grant = await slots.reserve(deps.stop, afterStartingTasks);
  if (grant.count === 0 || !deps.rateLimit) return grant;
  const tokens = await deps.rateLimit.take(grant.count, deps.stop);
  if (tokens < grant.count) slots.release(grant.count - tokens);
  return { ...grant, count: tokens };
}

/**
 * How long the server may hold this poll: the full long poll on the loop's own slot alone, at
 * most SHARED_POLL_WAIT_MS on shared slots, and not at all on a host or worker queue's turn
 * while the loops take turns (fewer slots than loops) and a base queue's loop waits for a
 * slot: base queues, where new work arrives, park the slot then, so a task enqueued there is
 * not kept waiting by an idle host or worker queue's poll (up to a second each before). With
 * no base queue's loop waiting (their polls are parked), such a turn parks too: looks would
 * follow each other back to back (an idle `--concurrency 2` worker and its daemon each spent
 * half a core on them).
 */
function pollWaitOf(loop: PollLoop, grant: SlotGrant, deps: PollLoopDeps): number {
  if (grant.ownOnly) return deps.pollWaitMs;
  if (grant.takingTurns && !loop.base && grant.baseWaiting) return 0;
  return Math.min(deps.pollWaitMs, SHARED_POLL_WAIT_MS);
}

/** Gives back slots and tokens that no task is using. */
function returnCapacity(slots: SlotAccount, deps: PollLoopDeps, count: number): void {
  slots.release(count);
  deps.rateLimit?.refund(count);
}

/** Counts tasks a server handed out beyond what was asked (they are leased, so they run). */
function adoptExtra(slots: SlotAccount, deps: PollLoopDeps, count: number): void {
  slots.adopt(count);
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
