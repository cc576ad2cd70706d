/**
 * What workflow code sees: the `ctx` of a workflow function, sessions, and the errors it may
 * catch. Served with the handler API as the virtual module `tqd` (see handler-api.ts), so it
 * holds no runtime imports; the option types come from the wire contract as types only.
 *
 * Workflow code must be deterministic: the worker replays it from the workflow's history, and
 * the same history must make it issue the same commands in the same order. So it reads time,
 * randomness and outside input only through `ctx` (`now`, `random`, `uuid`, `signal`, activity
 * results), and it may await only promises that `ctx` gave it (or promises built from them,
 * such as `Promise.all` of activities): the runtime lets the code run until it is blocked on
 * `ctx` promises, and anything else (a `fetch`, a `setTimeout`) would resolve outside of it.
 * Side effects belong in activities.
 */
import type { ActivityOptions, SessionOptions } from "../../protocol/workflows.ts";

export type { ActivityOptions, SessionOptions };

/** What a workflow function runs with: its identity and the replay-safe operations. */
export interface WorkflowContext {
  readonly workflowId: string;
  readonly workflowType: string;
  /**
   * Runs a task of `type` (an activity) on the workflow's queue, or on `options.queue`, with the
   * task semantics that exist (timeouts as duration strings, retry policy, priority). Resolves
   * with its result; rejects with ActivityFailedError once it ended failed (after its retries),
   * timed_out or canceled. Invalid options reject at once with a TypeError.
   */
  activity<Result = unknown>(type: string, input?: unknown, options?: ActivityOptions): Promise<Result>;
  /** A durable timer: `"30s"`, `"5m"`, or milliseconds. Survives worker and daemon restarts. */
  sleep(duration: string | number): Promise<void>;
  /** The time of the last history event this step of the code saw; stable across replays. */
  now(): Date;
  /** A number in [0, 1) from a generator seeded by the workflow's start; stable across replays. */
  random(): number;
  /** A version-4 UUID drawn from `random()`. */
  uuid(): string;
  /**
   * The payload of the next signal named `name` (`tqd workflow signal ID NAME [PAYLOAD]`).
   * Signals that arrive before the code asks are kept in arrival order, per name.
   */
  signal<Payload = unknown>(name: string): Promise<Payload>;
  /**
   * Reserves a slot on one worker of `options.queue` (`tqd work --max-sessions`) and resolves
   * once a worker holds it; every `session.activity` then runs on that worker. Rejects with
   * SessionFailedError when no worker took it within `creationTimeout` (default 60 s).
   */
  createSession(options: SessionOptions): Promise<Session>;
}

/** A slot on one worker: its activities all run there until `complete()` or a failure. */
export interface Session {
  /** The seq of the command that created it (names it in history and describe). */
  readonly seq: number;
  /** The queue the session was requested on. */
  readonly queue: string;
  /** The worker holding the session (its identity). */
  readonly worker: string;
  /** The worker queue its activities go to (`Q@worker:IDENTITY`). */
  readonly workerQueue: string;
  /**
   * An activity on the session's worker. Rejects with SessionFailedError if the session fails
   * before it ends (its worker stopped heartbeating: it died or lost the server), or at once if
   * it already failed or was completed; otherwise as `ctx.activity`.
   */
  activity<Result = unknown>(type: string, input?: unknown, options?: Omit<ActivityOptions, "queue">): Promise<Result>;
  /** Releases the slot; later `activity` calls reject. Calling it again does nothing. */
  complete(): void;
}

/**
 * One workflow type's code. Its return value (any JSON) completes the workflow; a thrown error
 * fails it with `{type: error.name, message}`.
 */
// `any` keeps workflows with annotated inputs (`input: {name: string}`) assignable to the map.
export type Workflow<Input = any, Result = unknown> = (ctx: WorkflowContext, input: Input) => Promise<Result>;

/** Workflow type -> its code: what `export const workflows = {...}` holds. */
export type WorkflowMap = Readonly<Record<string, Workflow>>;

/** Identity at run time; exists so workflow maps get `ctx` typed without annotations. */
export function defineWorkflows<const Workflows extends Record<string, Workflow>>(workflows: Workflows): Workflows {
  return workflows;
}

/** How an activity's task ended when it did not complete. */
export type ActivityEndState = "failed" | "timed_out" | "canceled";

/** An activity did not complete; `errorType` and `errorMessage` are its task's last error. */
export class ActivityFailedError extends Error {
  override readonly name = "ActivityFailedError";
  constructor(
    readonly activityType: string,
    readonly seq: number,
    readonly state: ActivityEndState,
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(`activity "${activityType}" (seq ${seq}) ended ${state}: ${errorType}: ${errorMessage}`);
  }
}

/**
 * A session failed: no worker took it in time, or its worker stopped heartbeating (it died, or
 * stopped). Catch it to retry the work on a new session.
 */
export class SessionFailedError extends Error {
  override readonly name = "SessionFailedError";
  constructor(
    readonly seq: number,
    readonly queue: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The code issued other commands than the history recorded at that point (a non-deterministic
 * change was deployed). The worker fails the workflow task with the error type `nondeterminism`;
 * the workflow stays running until fixed code replays its history.
 */
export class NondeterminismError extends Error {
  override readonly name = "NondeterminismError";
}
