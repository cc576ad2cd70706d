/**
 * The workflow wait loop against a scripted reader and a manual clock (no sleeps), and its exit
 * codes, which are `tqd wait`'s: 0 completed, 1 failed or canceled, 4 timed out, 3 unreachable.
 */
import { describe, expect, it } from "vitest";
import { reportClosedWorkflow, waitForClosedWorkflow, waitForWorkflowAndReport, type WorkflowReader } from "../../../cmd/admin/workflow-wait.ts";
import { EXIT } from "../../../cmd/io.ts";
import { TqdApiError, TqdUnreachableError } from "../../../lib/client/index.ts";
import type { WorkflowView } from "../../../lib/protocol/index.ts";
import { capturedIo } from "../../support/captured-io.ts";
import { manualClock, scriptedAnswers, type ManualClock } from "./wait-fixtures.ts";

function aWorkflow(overrides: Partial<WorkflowView> = {}): WorkflowView {
  return {
    id: "wf-1",
    type: "fileProcessing",
    queue: "files",
    state: "running",
    createdAt: "2026-06-01T12:00:00.000Z",
    lastEventId: 3,
    pendingActivities: [],
    timers: [],
    sessions: [],
    blockedOn: [],
    ...overrides,
  };
}

/** Answers in script order; a running answer is held for the full waitMs (or `heldMs`). */
function scriptedReader(clock: ManualClock, answers: (WorkflowView | Error)[], heldMs?: number) {
  const { answer, asked } = scriptedAnswers(clock, answers, (workflow) => workflow.state !== "running", heldMs);
  const reader: WorkflowReader = { getWorkflow: (_id, options = {}) => answer(options.waitMs) };
  return { reader, asked };
}

describe("waitForClosedWorkflow", () => {
  it("re-asks in 60 s long polls until the workflow is closed when there is no timeout", async () => {
    const clock = manualClock();
    const done = aWorkflow({ state: "completed", result: { ok: true } });
    const { reader, asked } = scriptedReader(clock, [aWorkflow(), aWorkflow(), done]);
    expect(await waitForClosedWorkflow(reader, "wf-1", { clock })).toEqual({ closed: true, workflow: done });
    expect(asked).toEqual([60_000, 60_000, 60_000]);
  });

  it("asks for no more than the time left and stops at the deadline", async () => {
    const clock = manualClock();
    const { reader, asked } = scriptedReader(clock, [aWorkflow(), aWorkflow()]);
    const outcome = await waitForClosedWorkflow(reader, "wf-1", { clock, timeoutMs: 90_000 });
    expect(outcome.closed).toBe(false);
    expect(asked).toEqual([60_000, 30_000]);
  });

  it("looks once with --timeout 0s", async () => {
    const clock = manualClock();
    const { reader, asked } = scriptedReader(clock, [aWorkflow()]);
    expect((await waitForClosedWorkflow(reader, "wf-1", { clock, timeoutMs: 0 })).closed).toBe(false);
    expect(asked).toEqual([0]);
  });

  it("pauses between answers that come back early, so a server that ignores waitMs is not hammered", async () => {
    const clock = manualClock();
    const { reader } = scriptedReader(clock, [aWorkflow(), aWorkflow(), aWorkflow({ state: "canceled" })], 0);
    expect((await waitForClosedWorkflow(reader, "wf-1", { clock })).closed).toBe(true);
    expect(clock.sleeps).toEqual([250, 250]);
  });
});

describe("reportClosedWorkflow", () => {
  it("prints a completed workflow's result (null without one) and exits 0", () => {
    const captured = capturedIo();
    expect(reportClosedWorkflow(captured.io, aWorkflow({ state: "completed", result: { files: 3 } }), { json: false })).toBe(EXIT.ok);
    expect(captured.stdout()).toBe('{"files":3}\n');
    const empty = capturedIo();
    reportClosedWorkflow(empty.io, aWorkflow({ state: "completed" }), { json: false });
    expect(empty.stdout()).toBe("null\n");
  });

  it("prints a failed workflow's error JSON on stderr in pipes and exits 1", () => {
    const captured = capturedIo();
    const error = { type: "SessionFailed", message: "worker web-1 is gone" };
    expect(reportClosedWorkflow(captured.io, aWorkflow({ state: "failed", error }), { json: false })).toBe(EXIT.failure);
    expect(captured.stdout()).toBe("");
    expect(JSON.parse(captured.stderr())).toEqual(error);
  });

  it("makes up an error for a workflow canceled without one, and words it on a terminal", () => {
    const pipe = capturedIo();
    expect(reportClosedWorkflow(pipe.io, aWorkflow({ state: "canceled" }), { json: false })).toBe(EXIT.failure);
    expect(JSON.parse(pipe.stderr())).toEqual({ type: "Canceled", message: "the workflow was canceled" });
    const tty = capturedIo({ isTTY: true });
    reportClosedWorkflow(tty.io, aWorkflow({ state: "canceled" }), { json: false });
    expect(tty.stderr()).toBe("error: workflow wf-1 was canceled: Canceled: the workflow was canceled\n");
  });

  it("prints the whole view with --json, keeping the exit code of the outcome", () => {
    const captured = capturedIo();
    const failed = aWorkflow({ state: "failed", error: { type: "E", message: "m" } });
    expect(reportClosedWorkflow(captured.io, failed, { json: true })).toBe(EXIT.failure);
    expect(JSON.parse(captured.stdout())).toEqual(failed);
  });
});

describe("waitForWorkflowAndReport", () => {
  it("exits 4 naming the workflow and its state when the timeout runs out", async () => {
    const clock = manualClock();
    const { reader } = scriptedReader(clock, [aWorkflow()]);
    const captured = capturedIo();
    expect(await waitForWorkflowAndReport(reader, "wf-1", captured.io, { clock, timeoutMs: 5_000, json: false })).toBe(EXIT.timeout);
    expect(captured.stderr()).toBe("error: timed out after 5s waiting for workflow wf-1 (state: running)\n");
  });

  it("exits 1 for an unknown workflow and 3 for an unreachable server", async () => {
    const clock = manualClock();
    const missing = capturedIo();
    const notFound = scriptedReader(clock, [new TqdApiError(404, "not_found", "workflow nope not found")]).reader;
    expect(await waitForWorkflowAndReport(notFound, "nope", missing.io, { clock, json: false })).toBe(EXIT.failure);
    expect(missing.stderr()).toBe("error: not_found: workflow nope not found\n");
    const down = scriptedReader(clock, [new TqdUnreachableError("http://127.0.0.1:1", new Error("ECONNREFUSED"))]).reader;
    expect(await waitForWorkflowAndReport(down, "wf-1", capturedIo().io, { clock, json: false })).toBe(EXIT.unreachable);
  });
});
