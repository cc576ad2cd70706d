/**
 * Waiting for a workflow to close, shared by `tqd workflow wait` and `tqd workflow start --wait`:
 * the long-poll loop of long-poll-wait.ts over getWorkflow, with the exit codes of `tqd wait`:
 * 0 completed (its result JSON on stdout), 1 failed or canceled (its error on stderr), 4 when
 * --timeout runs out first.
 */
import type { TqdClient } from "../../lib/client/index.ts";
import type { TaskError, WorkflowView } from "../../lib/protocol/index.ts";
import type { CliIo } from "../io.ts";
import { reportFinal, waitUntilFinal, waitUntilFinalAndReport, type LongPoll, type LongPollWaitOptions } from "./long-poll-wait.ts";
import { describeWorkflowError } from "./render-workflow.ts";

/** What the wait loop needs of the client; tests pass a scripted fake. */
export type WorkflowReader = Pick<TqdClient, "getWorkflow">;

/** `closed: false` when the deadline passed first; `workflow` is then the last state seen. */
export type WorkflowWaitOutcome = { closed: boolean; workflow: WorkflowView };

export type WorkflowWaitOptions = LongPollWaitOptions;

function workflowPoll(reader: WorkflowReader, id: string): LongPoll<WorkflowView> {
  return { read: (waitMs) => reader.getWorkflow(id, { waitMs }), isFinal: (workflow) => workflow.state !== "running" };
}

/** Long-polls `id` until the workflow is closed (completed, failed, canceled) or the timeout passes. */
export async function waitForClosedWorkflow(reader: WorkflowReader, id: string, options: WorkflowWaitOptions = {}): Promise<WorkflowWaitOutcome> {
  const { final, last } = await waitUntilFinal(workflowPoll(reader, id), options);
  return { closed: final, workflow: last };
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
  return reportFinal(io, workflow, options, { errorOfState, sentence: describeWorkflowEnd });
}

function describeWorkflowEnd(workflow: WorkflowView, error: TaskError): string {
  const verb = workflow.state === "canceled" ? "was canceled" : "failed";
  return `error: workflow ${workflow.id} ${verb}: ${describeWorkflowError(error)}`;
}

function errorOfState(workflow: WorkflowView): TaskError {
  if (workflow.state === "canceled") return { type: "Canceled", message: "the workflow was canceled" };
  return { type: "unknown", message: "the workflow failed without an error record" };
}

/** Waits for `id`, prints the outcome, and returns the exit code (0, 1, 3 or 4). */
export function waitForWorkflowAndReport(
  reader: WorkflowReader,
  id: string,
  io: CliIo,
  options: WorkflowWaitOptions & { json: boolean },
): Promise<number> {
  const report = (workflow: WorkflowView) => reportClosedWorkflow(io, workflow, options);
  return waitUntilFinalAndReport(io, { ...workflowPoll(reader, id), subject: `workflow ${id}`, report }, options);
}
