/**
 * What a handlers module sees. At run time `tqd work` serves this file's exports as the virtual
 * module `tqd` (see load-handlers.ts), so `import { defineHandlers } from "tqd"` works from source
 * and from the compiled binary; tsconfig maps `tqd` here for type checking. Keep it free of
 * imports: it is the whole surface a handler author depends on.
 */

/** Everything a handler knows about the attempt it is running. */
export interface TaskContext {
  readonly taskId: string;
  readonly queue: string;
  readonly type: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Aborted when the lease is lost (the server answered 404/409, or the deadline passed without
   * a heartbeat extending it), when the server asks for cancellation, or when the worker stops
   * and its grace period runs out. `signal.reason` is a `TaskAbortedError` saying which.
   */
  readonly signal: AbortSignal;
  /** When the current lease ends unless a heartbeat extends it; updated by each heartbeat. */
  readonly leaseDeadline: Date;
  /**
   * Extends the lease and records `details` (any JSON) on the task. Never rejects: a lost lease
   * aborts `signal` instead, and a server that cannot be reached is retried by the next call.
   */
  heartbeat(details?: unknown): Promise<void>;
}

/**
 * One task type's implementation. The return value (any JSON, or undefined for none) becomes the
 * task's result; a thrown error fails the attempt with `{type: error.name, message}`.
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
