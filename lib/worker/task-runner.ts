/**
 * Runs one leased task: builds the handler's context around its lease, awaits the handler (or
 * the end of the shutdown grace period, whichever comes first), and reports the outcome, unless
 * the lease was lost or the handler handed it off with `ctx.completeLater()`.
 */
import type { LeasedTask } from "../protocol/index.ts";
import type { Handler, HandlerMap } from "./handler-api.ts";
import { HandlerContext, type OwnQueues } from "./handler-context.ts";
import { TaskLease } from "./lease.ts";
import type { LeaseWatch } from "./lease-watch.ts";
import type { SignalFanout } from "./signal-fanout.ts";
import { reportOutcome, type ReportDeps } from "./report-outcome.ts";
import { taskError, taskErrorFrom, type TaskOutcome } from "./task-outcome.ts";

export interface TaskRunnerDeps extends ReportDeps {
  handlers: HandlerMap;
  /** Fires when the shutdown grace period ends: handlers still running are given up on. */
  abandon: SignalFanout;
  /** Watches every lease's deadline (one timer for the worker). */
  leases: LeaseWatch;
}

/** What the handler did with its attempt. */
type HandlerEnd = TaskOutcome & { handedOff: boolean };

/**
 * Runs `task` to a reported outcome; never rejects. `freeSlot` is called once the server is
 * certain to have the outcome before this worker's next poll: over the worker stream, when the
 * acknowledgement is on the socket (frames are read in order), so the slot runs its next task
 * while the commit is still under way; otherwise the caller frees it when this resolves. Either
 * way the server never sees more of this worker's tasks without an outcome than its slots
 * (unless the stream breaks or the commit fails after the frame went out: then the outcome is
 * retried alone while its slot already runs a new task).
 */
export async function runTask(task: LeasedTask, own: OwnQueues, deps: TaskRunnerDeps, freeSlot?: () => void): Promise<void> {
  const { log } = deps;
  const lease = new TaskLease(task, deps);
  const fields = { taskId: task.id, queue: task.queue, type: task.type, attempt: task.attempt };
  let abandoned!: (outcome: "abandoned") => void;
  const abandonedOutcome = new Promise<"abandoned">((resolve) => (abandoned = resolve));
  const onAbandon = () => {
    lease.abort("worker-stopped", "the worker stopped and its grace period ran out");
    abandoned("abandoned");
  };
  deps.abandon.add(onAbandon);
  try {
    const end = await Promise.race([invokeHandler(handlerFor(deps.handlers, task.type), task, own, lease), abandonedOutcome]);
    // Heartbeat details still held by the throttle go out first: a retry resumes from them.
    await lease.flushHeartbeats();
    if (end === "abandoned") {
      // Not reported: a failure would be final, yet the task did nothing wrong. Its lease runs
      // out on the server and the task is redelivered as the next attempt.
      log.warn("task abandoned at shutdown; the server redelivers it when its lease expires", fields);
      return;
    }
    if (end.ok && end.handedOff) {
      // The token's holder finishes the task; the lease stays on the server until then.
      log.debug("task handed off for completion elsewhere", fields);
      return;
    }
    if (end.ok) log.debug("task completed", fields);
    else log.warn("task failed", { ...fields, error: `${end.error.type}: ${end.error.message}` });
    // The lease-lost warning was logged when the heartbeat found out; the server will not listen.
    if (lease.lost) return;
    await reportOutcome(task, end, () => lease.leaseDeadlineMs, deps, freeSlot);
  } finally {
    deps.abandon.delete(onAbandon);
    lease.release();
  }
}

// Own keys only: a type named "toString" must not find Object.prototype.toString.
function handlerFor(handlers: HandlerMap, type: string): Handler | undefined {
  return Object.hasOwn(handlers, type) ? handlers[type] : undefined;
}

async function invokeHandler(handler: Handler | undefined, task: LeasedTask, own: OwnQueues, lease: TaskLease): Promise<HandlerEnd> {
  if (handler === undefined) {
    const error = taskError("UnknownTaskType", `this worker has no handler for task type "${task.type}"`);
    return { ok: false, error, handedOff: false };
  }
  const ctx = new HandlerContext(task, own, lease);
  try {
    const result: unknown = await handler(task.input, ctx);
    return { ok: true, result, handedOff: ctx.handedOff };
  } catch (thrown) {
    // Thrown after completeLater() too: the attempt fails here, and the token goes stale.
    return { ok: false, error: taskErrorFrom(thrown), handedOff: ctx.handedOff };
  }
}
