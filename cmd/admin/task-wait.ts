/**
 * Waiting for a task to become final, shared by `tqd wait` and `tqd enqueue --wait`. The waiting
 * itself happens on the server: each getTask call is a long poll that the server holds until
 * the task is final or `waitMs` runs out, so this loop only re-asks and watches our deadline.
 */
import { systemClock, type Clock } from "../../lib/clock/clock.ts";
import type { TqdClient } from "../../lib/client/index.ts";
import { FINAL_TASK_STATES, LIMITS, formatDuration, type TaskError, type TaskStateName, type TaskView } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, type CliIo } from "../io.ts";

/** What the wait loop needs of the client; tests pass a scripted fake. */
export type TaskReader = Pick<TqdClient, "getTask">;

export type WaitOutcome =
  | { finished: true; task: TaskView }
  /** The deadline passed; `task` is the last state seen. */
  | { finished: false; task: TaskView };

export interface WaitOptions {
  /** Give up after this long; undefined waits without limit. 0 looks once. */
  timeoutMs?: number | undefined;
  clock?: Clock;
}

/**
 * A non-final answer that comes back sooner than asked (a server that ignores or caps waitMs)
 * would make the loop spin; pausing this long between such answers bounds the request rate.
 */
const EARLY_ANSWER_PAUSE_MS = 250;

/** Long-polls `id` until it is final (completed, failed, canceled, timed_out) or the timeout passes. */
export async function waitForFinalTask(reader: TaskReader, id: string, options: WaitOptions = {}): Promise<WaitOutcome> {
  const clock = options.clock ?? systemClock;
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
  for (;;) {
    const askedAt = clock.now();
    const remainingMs = deadline === undefined ? LIMITS.taskWaitMs : Math.max(0, deadline - askedAt);
    const waitMs = Math.min(remainingMs, LIMITS.taskWaitMs);
    const task = await reader.getTask(id, { waitMs });
    if (FINAL_TASK_STATES.includes(task.state)) return { finished: true, task };
    const now = clock.now();
    if (deadline !== undefined && now >= deadline) return { finished: false, task };
    if (now - askedAt < waitMs) {
      await clock.sleep(Math.min(EARLY_ANSWER_PAUSE_MS, deadline === undefined ? Infinity : deadline - now));
    }
  }
}

/**
 * Prints a final task and returns its exit code: 0 only for `completed`, 1 for `failed`,
 * `canceled` and `timed_out`.
 * - `--json`: the whole TaskView as one line on stdout, whatever the outcome.
 * - completed: the result as one JSON line on stdout. A task completed without a result prints
 *   `null`, so `$(tqd wait ID)` is always valid JSON for jq and friends.
 * - otherwise: the task's error on stderr: one JSON line `{"type","message"}` in pipes, a
 *   sentence on a TTY. A task that ended without an error record (a cancel, say) gets one made
 *   up from its state: `{"type":"Canceled","message":"the task was canceled"}`,
 *   `{"type":"TimedOut","message":"the task timed out"}`.
 */
export function reportFinalTask(io: CliIo, task: TaskView, options: { json: boolean }): number {
  const exitCode = task.state === "completed" ? EXIT.ok : EXIT.failure;
  if (options.json) {
    io.stdout.write(JSON.stringify(task) + "\n");
    return exitCode;
  }
  if (task.state === "completed") {
    io.stdout.write(JSON.stringify(task.result ?? null) + "\n");
    return exitCode;
  }
  const error = task.error ?? errorOfState(task.state);
  if (io.stderr.isTTY) {
    const when = task.attempt > 0 ? ` on attempt ${task.attempt}` : " before it started";
    io.stderr.write(`error: task ${task.id} ${OUTCOME_VERBS[task.state] ?? task.state}${when}: ${error.type}: ${error.message}\n`);
  } else {
    io.stderr.write(JSON.stringify(error) + "\n");
  }
  return exitCode;
}

const OUTCOME_VERBS: Partial<Record<TaskStateName, string>> = { failed: "failed", canceled: "was canceled", timed_out: "timed out" };

/** The error printed for a task that ended without one. */
function errorOfState(state: TaskStateName): TaskError {
  if (state === "canceled") return { type: "Canceled", message: "the task was canceled" };
  if (state === "timed_out") return { type: "TimedOut", message: "the task timed out" };
  return { type: "unknown", message: "the task failed without an error record" };
}

/** Waits for `id`, prints the outcome, and returns the exit code (0, 1, 3 or 4). */
export async function waitAndReport(
  reader: TaskReader,
  id: string,
  io: CliIo,
  options: WaitOptions & { json: boolean },
): Promise<number> {
  let outcome: WaitOutcome;
  try {
    outcome = await waitForFinalTask(reader, id, options);
  } catch (error) {
    return reportClientError(io, error);
  }
  if (outcome.finished) return reportFinalTask(io, outcome.task, options);
  const waited = formatDuration(options.timeoutMs ?? 0);
  io.stderr.write(`error: timed out after ${waited} waiting for task ${id} (state: ${outcome.task.state})\n`);
  return EXIT.timeout;
}
