/**
 * What a handlers module sees. At run time `tqd work` serves this file's exports as the virtual
 * module `tqd` (see load-handlers.ts), so `import { defineHandlers } from "tqd"` works from source
 * and from the compiled binary; tsconfig maps `tqd` here for type checking. Keep it free of
 * imports other than the workflow API it re-exports (itself import-free but for types): it is
 * the whole surface a handler author depends on.
 */
export {
  ActivityFailedError,
  defineWorkflows,
  NondeterminismError,
  SessionFailedError,
  type ActivityEndState,
  type ActivityOptions,
  type Session,
  type SessionOptions,
  type Workflow,
  type WorkflowContext,
  type WorkflowMap,
} from "./workflow/workflow-api.ts";

/** Everything a handler knows about the attempt it is running. */
export interface TaskContext {
  readonly taskId: string;
  readonly queue: string;
  readonly type: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Details of the last heartbeat an earlier attempt sent (any JSON), to resume from;
   * undefined on a first attempt or when no earlier attempt sent details.
   */
  readonly lastHeartbeat: unknown;
  /** The producer's headers (`tqd enqueue --header k=v`); empty when it set none. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The queue every worker on this host polls for the base queue this task came from
   * (`Q@host:HOST`). Enqueue a follow-up step there to run it on this host, e.g. next to a file
   * this handler wrote to local disk; for a task taken from `Q@host:web-1` it is `Q@host:web-1`.
   */
  readonly hostQueue: string;
  /** The queue only this worker process polls for that base queue (`Q@worker:IDENTITY`). */
  readonly workerQueue: string;
  /**
   * Aborted when the lease is lost (the server answered 404/409, or the deadline passed without
   * a heartbeat extending it), when the server asks for cancellation, or when the worker stops
   * and its grace period runs out. `signal.reason` is a `TaskAbortedError` saying which.
   */
  readonly signal: AbortSignal;
  /** When the current lease ends unless a heartbeat extends it; updated by each heartbeat sent. */
  readonly leaseDeadline: Date;
  /**
   * Records `details` (any JSON) on the task and, if the task has a heartbeat timeout, extends
   * the lease by it. Throttled: at most one send per 0.8 x the heartbeat timeout (1 s without
   * one); a call inside that window resolves at once and its details go out at the window's
   * end. The answer may ask for cancellation, which aborts `signal`. Never rejects: a lost lease
   * aborts `signal` instead, and a server that cannot be reached is retried by the next send.
   */
  heartbeat(details?: unknown): Promise<void>;
  /**
   * Hands the lease back to be finished elsewhere: returns a token for `tqd complete TOKEN` or
   * `tqd fail TOKEN`. Once the handler then returns, the worker reports nothing (the return
   * value is ignored), stops heartbeating and frees the slot; the task stays running until the
   * token is used or its lease times out. A handler that throws after calling it still fails
   * the attempt as usual. Calling it again returns the same token.
   */
  completeLater(): string;
}

/**
 * One task type's implementation. The return value (any JSON, or undefined for none) becomes the
 * task's result; a thrown error fails the attempt with `{type: error.name, message}`, and is not
 * retried when it has `nonRetryable: true` (see NonRetryableError).
 */
// `any` keeps handlers with annotated inputs (`input: {name: string}`) assignable to the map.
export type Handler<Input = any, Result = unknown> = (input: Input, ctx: TaskContext) => Promise<Result> | Result;

/** Task type name -> handler; the keys are the types a worker asks the server for. */
export type HandlerMap = Readonly<Record<string, Handler>>;

/** Identity at run time; exists so handler maps get `ctx` typed without annotations. */
export function defineHandlers<const Handlers extends Record<string, Handler>>(handlers: Handlers): Handlers {
  return handlers;
}

/** Why a task's signal was aborted. */
export type TaskAbortCause = "lease-lost" | "lease-expired" | "cancel-requested" | "worker-stopped";

/** The `reason` of an aborted `ctx.signal`; handlers may throw it on to end the attempt. */
export class TaskAbortedError extends Error {
  override readonly name = "TaskAbortedError";
  constructor(
    readonly kind: TaskAbortCause,
    message: string,
  ) {
    super(message);
  }
}

export interface NonRetryableErrorOptions {
  /** The error type the task records (the error's `name`); default the class name. */
  type?: string;
  cause?: unknown;
}

/**
 * Fails the attempt for good, whatever the task's retry policy. Any thrown value with
 * `nonRetryable: true` does the same; this class is the convenient way to get one, e.g.
 * `throw new NonRetryableError("no such user", { type: "UserNotFound" })`.
 */
export class NonRetryableError extends Error {
  readonly nonRetryable = true;
  override readonly name: string;
  constructor(message: string, options: NonRetryableErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // A subclass is named after itself unless it says otherwise.
    this.name = options.type ?? (new.target === NonRetryableError ? "NonRetryableError" : new.target.name);
  }
}
