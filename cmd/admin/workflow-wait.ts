/**
 * Waiting for a workflow to close, shared by `tqd workflow wait` and `tqd workflow start --wait`,
 * with the exit codes of `tqd wait`: 0 completed (its result JSON on stdout), 1 failed or
 * canceled (its error on stderr), 4 when --timeout runs out first. Each getWorkflow call is a
 * long poll that the server holds until the workflow is closed or `waitMs` runs out; this loop
 * only re-asks and watches our deadline, as the task wait loop does (task-wait.ts).
 */
import { systemClock, type Clock } from "../../lib/clock/clock.ts";
import type { TqdClient } from "../../lib/client/index.ts";
import { LIMITS, formatDuration, type TaskError, type WorkflowView } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, type CliIo } from "../io.ts";
import { describeWorkflowError } from "./render-workflow.ts";

/** What the wait loop needs of the client; tests pass a scripted fake. */
export type WorkflowReader = Pick<TqdClient, "getWorkflow">;

/** `closed: false` when the deadline passed first; `workflow` is then the last state seen. */
export type WorkflowWaitOutcome = { closed: boolean; workflow: WorkflowView };

export interface WorkflowWaitOptions {
  /** Give up after this long; undefined waits without limit. 0 looks once. */
  timeoutMs?: number | undefined;
  clock?: Clock;
}

/** Pause between non-closed answers that came back sooner than asked, so the loop cannot spin. */
const EARLY_ANSWER_PAUSE_MS = 250;

/** Long-polls `id` until the workflow is closed (completed, failed, canceled) or the timeout passes. */
export async function waitForClosedWorkflow(reader: WorkflowReader, id: string, options: WorkflowWaitOptions = {}): Promise<WorkflowWaitOutcome> {
  const clock = options.clock ?? systemClock;
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
  for (;;) {
    const askedAt = clock.now();
    const remainingMs = deadline === undefined ? LIMITS.taskWaitMs : Math.max(0, deadline - askedAt);
    const waitMs = Math.min(remainingMs, LIMITS.taskWaitMs);
    const workflow = await reader.getWorkflow(id, { waitMs });
    if (workflow.state !== "running") return { closed: true, workflow };
    const now = clock.now();
    if (deadline !== undefined && now >= deadline) return { closed: false, workflow };
    if (now - askedAt < waitMs) {
      await clock.sleep(Math.min(EARLY_ANSWER_PAUSE_MS, deadline === undefined ? Infinity : deadline - now));
    }
  }
}

/**
 * Prints a closed workflow and returns its exit code (0 only for completed).
 * - `--json`: the whole WorkflowView as one line on stdout, whatever the outcome.
 * - completed: the result as one JSON line (`null` without one), so `$(...)` is always JSON.
 * - failed or canceled: the error on stderr, one JSON line in pipes, a sentence on a terminal.
 *   A workflow canceled without an error record gets
 *   `{"type":"Canceled","message":"the workflow was canceled"}`.
 */
export function reportClosedWorkflow(io: CliIo, workflow: WorkflowView, options: { json: boolean }): number {
  const exitCode = workflow.state === "completed" ? EXIT.ok : EXIT.failure;
  if (options.json) {
    io.stdout.write(JSON.stringify(workflow) + "\n");
    return exitCode;
  }
  if (workflow.state === "completed") {
    io.stdout.write(JSON.stringify(workflow.result ?? null) + "\n");
    return exitCode;
  }
  const error = workflow.error ?? errorOfState(workflow);
  if (io.stderr.isTTY) {
    const verb = workflow.state === "canceled" ? "was canceled" : "failed";
    io.stderr.write(`error: workflow ${workflow.id} ${verb}: ${describeWorkflowError(error)}\n`);
  } else {
    io.stderr.write(JSON.stringify(error) + "\n");
  }
  return exitCode;
}

function errorOfState(workflow: WorkflowView): TaskError {
  if (workflow.state === "canceled") return { type: "Canceled", message: "the workflow was canceled" };
  return { type: "unknown", message: "the workflow failed without an error record" };
}

/** Waits for `id`, prints the outcome, and returns the exit code (0, 1, 3 or 4). */
export async function waitForWorkflowAndReport(
  reader: WorkflowReader,
  id: string,
  io: CliIo,
  options: WorkflowWaitOptions & { json: boolean },
): Promise<number> {
  let outcome: WorkflowWaitOutcome;
  try {
    outcome = await waitForClosedWorkflow(reader, id, options);
  } catch (error) {
    return reportClientError(io, error);
  }
  if (outcome.closed) return reportClosedWorkflow(io, outcome.workflow, options);
  const waited = formatDuration(options.timeoutMs ?? 0);
  io.stderr.write(`error: timed out after ${waited} waiting for workflow ${id} (state: ${outcome.workflow.state})\n`);
  return EXIT.timeout;
}
