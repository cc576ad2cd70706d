/**
 * The wait loop against a scripted reader and a manual clock: each scripted answer advances
 * the clock by the time the "server" held the request, so no test sleeps.
 */
import { describe, expect, it } from "vitest";
import { reportFinalTask, waitAndReport, waitForFinalTask, type TaskReader } from "../../../cmd/admin/task-wait.ts";
import { EXIT } from "../../../cmd/io.ts";
import { TqdApiError } from "../../../lib/client/index.ts";
import { FINAL_TASK_STATES, type TaskView } from "../../../lib/protocol/index.ts";
import { aTaskView } from "../../support/a-task-view.ts";
import { capturedIo } from "../../support/captured-io.ts";
import { manualClock, scriptedAnswers, type ManualClock } from "./wait-fixtures.ts";

/** Answers in script order; a pending answer is held for the full waitMs. */
function scriptedReader(clock: ManualClock, answers: TaskView[]) {
  const { answer, asked } = scriptedAnswers(clock, answers, (task) => FINAL_TASK_STATES.includes(task.state));
  const reader: TaskReader = { getTask: (_id, options = {}) => answer(options.waitMs) };
  return { reader, asked };
}

describe("waitForFinalTask", () => {
  it("keeps waiting through scheduled (a delay or a retry backoff) and stops at canceled", async () => {
    const clock = manualClock();
    const canceled = aTaskView({ state: "canceled" });
    const { reader, asked } = scriptedReader(clock, [aTaskView({ state: "scheduled" }), canceled]);
    expect(await waitForFinalTask(reader, "task-1", { clock })).toEqual({ finished: true, task: canceled });
    expect(asked).toHaveLength(2);
  });

  it("re-asks in 60 s long polls until the task is final when there is no timeout", async () => {
    const clock = manualClock();
    const done = aTaskView({ state: "completed", result: 42 });
    const { reader, asked } = scriptedReader(clock, [aTaskView(), aTaskView({ state: "running" }), done]);
    const outcome = await waitForFinalTask(reader, "task-1", { clock });
    expect(outcome).toEqual({ finished: true, task: done });
    expect(asked).toEqual([60_000, 60_000, 60_000]);
  });

  it("asks for no more than the time left and stops at the deadline", async () => {
    const clock = manualClock();
    const { reader, asked } = scriptedReader(clock, [aTaskView(), aTaskView(), aTaskView()]);
    const outcome = await waitForFinalTask(reader, "task-1", { clock, timeoutMs: 90_000 });
    expect(outcome.finished).toBe(false);
    expect(asked).toEqual([60_000, 30_000]);
  });

  it("looks exactly once with a zero timeout", async () => {
    const clock = manualClock();
    const { reader, asked } = scriptedReader(clock, [aTaskView()]);
    const outcome = await waitForFinalTask(reader, "task-1", { clock, timeoutMs: 0 });
    expect(outcome.finished).toBe(false);
    expect(asked).toEqual([0]);
  });

  it("pauses between answers that come back early instead of spinning", async () => {
    const clock = manualClock();
    const answers = [aTaskView(), aTaskView({ state: "completed" })];
    const reader: TaskReader = { getTask: async () => answers.shift()! };
    await waitForFinalTask(reader, "task-1", { clock });
    expect(clock.sleeps).toEqual([250]);
  });
});

describe("reportFinalTask", () => {
  it("prints a completed task's result as one JSON line and exits 0", () => {
    const captured = capturedIo();
    const code = reportFinalTask(captured.io, aTaskView({ state: "completed", result: { greeting: "hi" } }), { json: false });
    expect(code).toBe(EXIT.ok);
    expect(captured.stdout()).toBe('{"greeting":"hi"}\n');
  });

  it("prints null for a task completed without a result", () => {
    const captured = capturedIo();
    reportFinalTask(captured.io, aTaskView({ state: "completed" }), { json: false });
    expect(captured.stdout()).toBe("null\n");
  });

  it("prints a failed task's error JSON on stderr in pipes and exits 1", () => {
    const captured = capturedIo();
    const error = { type: "ValueError", message: "no name" };
    const code = reportFinalTask(captured.io, aTaskView({ state: "failed", error }), { json: false });
    expect(code).toBe(EXIT.failure);
    expect(captured.stdout()).toBe("");
    expect(captured.stderr()).toBe(JSON.stringify(error) + "\n");
  });

  it("describes a failed task in a sentence on a TTY", () => {
    const captured = capturedIo({ isTTY: true });
    const task = aTaskView({ state: "failed", attempt: 3, error: { type: "ValueError", message: "no name" } });
    reportFinalTask(captured.io, task, { json: false });
    expect(captured.stderr()).toBe("error: task task-1 failed on attempt 3: ValueError: no name\n");
  });

  it.each([
    ["canceled", { type: "Canceled", message: "the task was canceled" }],
    ["timed_out", { type: "TimedOut", message: "the task timed out" }],
  ] as const)("exits 1 for a %s task and prints an error made up from the state when it has none", (state, error) => {
    const captured = capturedIo();
    expect(reportFinalTask(captured.io, aTaskView({ state }), { json: false })).toBe(EXIT.failure);
    expect(captured.stdout()).toBe("");
    expect(JSON.parse(captured.stderr())).toEqual(error);
  });

  it("prints the error a canceled or timed-out task carries", () => {
    const captured = capturedIo();
    const error = { type: "StartToCloseTimeout", message: "attempt 2 ran longer than 30s" };
    reportFinalTask(captured.io, aTaskView({ state: "timed_out", attempt: 2, error }), { json: false });
    expect(JSON.parse(captured.stderr())).toEqual(error);
  });

  it("says how a task ended in a sentence on a TTY", () => {
    const canceled = capturedIo({ isTTY: true });
    reportFinalTask(canceled.io, aTaskView({ state: "canceled" }), { json: false });
    expect(canceled.stderr()).toBe("error: task task-1 was canceled before it started: Canceled: the task was canceled\n");
    const timedOut = capturedIo({ isTTY: true });
    reportFinalTask(timedOut.io, aTaskView({ state: "timed_out", attempt: 1 }), { json: false });
    expect(timedOut.stderr()).toBe("error: task task-1 timed out on attempt 1: TimedOut: the task timed out\n");
  });

  it("prints the whole task with --json, keeping the exit code of the outcome", () => {
    const captured = capturedIo();
    const task = aTaskView({ state: "failed", error: { type: "E", message: "m" } });
    expect(reportFinalTask(captured.io, task, { json: true })).toBe(EXIT.failure);
    expect(JSON.parse(captured.stdout())).toEqual(task);
  });
});

describe("waitAndReport", () => {
  it("exits 4 naming the task when the timeout runs out", async () => {
    const clock = manualClock();
    const { reader } = scriptedReader(clock, [aTaskView()]);
    const captured = capturedIo();
    const code = await waitAndReport(reader, "task-1", captured.io, { clock, timeoutMs: 200, json: false });
    expect(code).toBe(EXIT.timeout);
    expect(captured.stderr()).toBe("error: timed out after 200ms waiting for task task-1 (state: pending)\n");
  });

  it("exits 1 with the code for an unknown task", async () => {
    const reader: TaskReader = {
      getTask: async () => {
        throw new TqdApiError(404, "not_found", "no task with id nope");
      },
    };
    const captured = capturedIo();
    expect(await waitAndReport(reader, "nope", captured.io, { json: false })).toBe(EXIT.failure);
    expect(captured.stderr()).toBe("error: not_found: no task with id nope\n");
  });
});
