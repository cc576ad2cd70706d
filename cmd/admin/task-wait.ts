/**
 * Waiting for a task to become final, shared by `tqd wait` and `tqd enqueue --wait`: the
 * long-poll loop of long-poll-wait.ts over getTask, and how a final task is printed.
 */
import type { TqdClient } from "../../lib/client/index.ts";
import { FINAL_TASK_STATES, type TaskError, type TaskStateName, type TaskView } from "../../lib/protocol/index.ts";
import type { CliIo } from "../io.ts";
import { reportFinal, waitUntilFinal, waitUntilFinalAndReport, type LongPoll, type LongPollWaitOptions } from "./long-poll-wait.ts";

/** What the wait loop needs of the client; tests pass a scripted fake. */
export type TaskReader = Pick<TqdClient, "getTask">;

export type WaitOutcome =
  | { finished: true; task: TaskView }
  /** The deadline passed; `task` is the last state seen. */
  | { finished: false; task: TaskView };

export type WaitOptions = LongPollWaitOptions;

function taskPoll(reader: TaskReader, id: string, signal?: AbortSignal): LongPoll<TaskView> {
  return { read: (waitMs) => reader.getTask(id, signal === undefined ? { waitMs } : { waitMs, signal }), isFinal: (task) => FINAL_TASK_STATES.includes(task.state) };
}

/** Long-polls `id` until it is final (completed, failed, canceled, timed_out) or the timeout passes. */
export async function waitForFinalTask(reader: TaskReader, id: string, options: WaitOptions = {}): Promise<WaitOutcome> {
  const { final, last } = await waitUntilFinal(taskPoll(reader, id, options.signal), options);
  return { finished: final, task: last };
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
  return reportFinal(io, task, options, { errorOfState: (task) => errorOfState(task.state), sentence: describeTaskEnd });
}

function describeTaskEnd(task: TaskView, error: TaskError): string {
  const when = task.attempt > 0 ? ` on attempt ${task.attempt}` : " before it started";
  return `error: task ${task.id} ${OUTCOME_VERBS[task.state] ?? task.state}${when}: ${error.type}: ${error.message}`;
}

const OUTCOME_VERBS: Partial<Record<TaskStateName, string>> = { failed: "failed", canceled: "was canceled", timed_out: "timed out" };

/** The error printed for a task that ended without one. */
export function errorOfState(state: TaskStateName): TaskError {
  if (state === "canceled") return { type: "Canceled", message: "the task was canceled" };
  if (state === "timed_out") return { type: "TimedOut", message: "the task timed out" };
  return { type: "unknown", message: "the task failed without an error record" };
}

/** Waits for `id`, prints the outcome, and returns the exit code (0, 1, 3 or 4). */
export function waitAndReport(reader: TaskReader, id: string, io: CliIo, options: WaitOptions & { json: boolean }): Promise<number> {
  const report = (task: TaskView) => reportFinalTask(io, task, options);
  return waitUntilFinalAndReport(io, { ...taskPoll(reader, id), subject: `task ${id}`, report }, options);
}
