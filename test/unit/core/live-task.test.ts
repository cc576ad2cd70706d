/** The compact task in memory: its record form and a dispatch's writes, with and without extras. */
import { describe, expect, test } from "vitest";
import { liveTaskOfRecord, recordOfLiveTask, type TaskRecord } from "../../../lib/core/index.ts";
import { LiveTask } from "../../../lib/core/live-task.ts";
import { anOptions, aTaskRecord } from "../../support/task-builders.ts";

/** The record read field by field through the accessors, as code elsewhere reads a task (the store reads a new task so). */
function recordThroughAccessors(task: LiveTask): TaskRecord {
  return {
    id: task.id, seq: task.seq, queue: task.queue, type: task.type, state: task.state, priority: task.priority, fairnessKey: task.fairnessKey,
    headers: task.headers, routedFrom: task.routedFrom, routeRuleId: task.routeRuleId, fallbackQueue: task.fallbackQueue, fallbackAt: task.fallbackAt,
    attempt: task.attempt, budgetStart: task.budgetStart, inputJson: task.inputJson, resultJson: task.resultJson, errorJson: task.errorJson,
    heartbeatJson: task.heartbeatJson, options: task.options, runAt: task.runAt, readyAt: task.readyAt, closeDeadline: task.closeDeadline,
    cancelRequested: task.cancelRequested, leaseToken: task.leaseToken, leaseDeadline: task.leaseDeadline, worker: task.worker,
    createdAt: task.createdAt, startedAt: task.startedAt, finishedAt: task.finishedAt,
  };
}

describe("LiveTask", () => {
  test("a pending task without extras has the record of its accessors, every extra at its default", () => {
    const task = liveTaskOfRecord(aTaskRecord({ state: "pending", inputJson: '{"a":1}', readyAt: 5 }));
    const record = recordOfLiveTask(task);
    expect(record).toEqual(recordThroughAccessors(task));
    expect(record).toMatchObject({ attempt: 0, budgetStart: 0, cancelRequested: false, worker: undefined, leaseToken: undefined, headers: undefined });
  });

  test("a task with every extra set reads back the record it was built from", () => {
    const record = aTaskRecord({
      queue: "q@host:h1", state: "running", priority: 2, fairnessKey: "tenant-a", headers: { region: "eu" }, routedFrom: "q", routeRuleId: "r1",
      fallbackQueue: "q", fallbackAt: 50, attempt: 4, budgetStart: 2, resultJson: "1", errorJson: '{"type":"E","message":"m"}', heartbeatJson: "7",
      options: anOptions({ startToCloseMs: 60_000 }), runAt: 40, readyAt: undefined, closeDeadline: 90, cancelRequested: true,
      leaseToken: "L1", leaseDeadline: 70, worker: "w1", startedAt: 30, finishedAt: undefined,
    });
    const task = liveTaskOfRecord(record);
    expect(recordOfLiveTask(task)).toEqual(record);
    expect(recordOfLiveTask(task)).toEqual(recordThroughAccessors(task));
  });

  test("startAttempt counts the attempt and sets the worker, the start and the lease, with or without extras", () => {
    const fresh = liveTaskOfRecord(aTaskRecord({ state: "pending" }));
    fresh.startAttempt("w1", 100, { token: "L1", deadline: 200 });
    expect(recordOfLiveTask(fresh)).toMatchObject({ attempt: 1, worker: "w1", startedAt: 100, leaseToken: "L1", leaseDeadline: 200 });
    expect(recordThroughAccessors(fresh)).toEqual(recordOfLiveTask(fresh));
    const retried = liveTaskOfRecord(aTaskRecord({ state: "pending", attempt: 2, budgetStart: 1, errorJson: "{}" }));
    retried.startAttempt("w2", 300, { token: "L2", deadline: 400 });
    expect(recordOfLiveTask(retried)).toMatchObject({ attempt: 3, budgetStart: 1, errorJson: "{}", worker: "w2", startedAt: 300, leaseToken: "L2", leaseDeadline: 400 });
    // Another task's extras are untouched (the defaults are shared by tasks without extras).
    expect(recordOfLiveTask(liveTaskOfRecord(aTaskRecord({ state: "pending" })))).toMatchObject({ attempt: 0, worker: undefined });
  });
});
