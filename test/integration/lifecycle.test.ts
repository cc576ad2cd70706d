/** The task lifecycle through the daemon, on a real SQLite file, with the fake clock. */
import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { describe, expect, test } from "vitest";
import { ConflictError, UnavailableError } from "../../lib/core/index.ts";
import { Daemon, type EnqueueCommand } from "../../lib/daemon/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { openSqliteStore } from "../../lib/store/index.ts";
import { failingStore, type FailingStore } from "../support/failing-store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { anOptions } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

const cmd = (extra: Partial<EnqueueCommand> = {}): EnqueueCommand => ({ type: "t", inputJson: "{}", priority: 3, options: anOptions(), ...extra });
const poll = { queue: "q", types: ["t"], max: 10, waitMs: 0, identity: "w1" };

async function setup(dataDir: string, clock = new FakeClock(), retentionMs = 7 * 86_400_000) {
  const store = failingStore(await openSqliteStore({ dataDir, pid: 1 }));
  const daemon = await Daemon.start({ store, clock, log: silentLogger, naming: WORKFLOW_NAMING, retention: { retentionMs, sweepEveryMs: 1_000, batchSize: 2 } });
  return { clock, store: store as FailingStore, daemon };
}

describe("lifecycle through the daemon", () => {
  test("a failing task is retried after its backoff, every attempt is recorded, and it ends failed", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    await daemon.enqueue("q", [cmd({ id: "job", options: anOptions({ retry: { maxAttempts: 3 } }) })]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [task] = await daemon.poll(poll);
      expect(task?.attempt).toBe(attempt);
      const after = await daemon.fail("job", task!.lease!.token, { type: "Boom", message: `attempt ${attempt}` });
      expect(after.state).toBe(attempt < 3 ? "scheduled" : "failed");
      expect(await daemon.poll(poll)).toEqual([]);
      await clock.advance(2 ** (attempt - 1) * 1_000);
    }
    const { record, attempts } = await daemon.getTask("job");
    expect(record).toMatchObject({ state: "failed", attempt: 3 });
    expect(attempts.map((a) => [a.attempt, a.outcome, a.worker])).toEqual([
      [1, "failed", "w1"],
      [2, "failed", "w1"],
      [3, "failed", "w1"],
    ]);
    expect(daemon.deadLetters.list("q").map((t) => t.id)).toEqual(["job"]);
    await daemon.stop();
  });

  test("a scheduled retry survives a restart and runs when its backoff ends", async () => {
    await using dir = await tempDir();
    const clock = new FakeClock();
    const first = await setup(dir.path, clock);
    await first.daemon.enqueue("q", [cmd({ id: "job" })]);
    const [task] = await first.daemon.poll(poll);
    await first.daemon.fail("job", task!.lease!.token, { type: "Boom", message: "once" });
    await first.daemon.stop();
    const second = await setup(dir.path, clock);
    expect((await second.daemon.getTask("job")).record.state).toBe("scheduled");
    expect(await second.daemon.poll(poll)).toEqual([]);
    await clock.advance(1_000);
    expect((await second.daemon.poll(poll))[0]).toMatchObject({ id: "job", attempt: 2 });
    await second.daemon.stop();
  });

  test("cancel: pending at once, running via the heartbeat answer, final is a conflict", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", [cmd({ id: "waiting" }), cmd({ id: "busy", options: anOptions({ heartbeatMs: 10_000 }) })]);
    const [busy] = await daemon.poll({ ...poll, max: 1 });
    expect(busy?.id).toBe("waiting");
    const [running] = await daemon.poll({ ...poll, max: 1 });
    expect((await daemon.cancel("busy")).cancelRequested).toBe(true);
    expect((await daemon.heartbeat("busy", running!.lease!.token, undefined)).cancelRequested).toBe(true);
    expect((await daemon.complete("busy", running!.lease!.token, undefined)).state).toBe("canceled");
    await expect(daemon.cancel("busy")).rejects.toThrow(ConflictError);
    await daemon.enqueue("q", [cmd({ id: "later" })]);
    expect((await daemon.cancel("later")).record.state).toBe("canceled");
    expect(await daemon.poll(poll)).toEqual([]);
    await daemon.stop();
  });

  test("a cancel whose commit fails changes nothing", async () => {
    await using dir = await tempDir();
    const { daemon, store } = await setup(dir.path);
    await daemon.enqueue("q", [cmd({ id: "x" })]);
    store.failNext(1);
    await expect(daemon.cancel("x")).rejects.toThrow(UnavailableError);
    expect((await daemon.poll(poll))[0]?.id).toBe("x");
    await daemon.stop();
  });

  test("dead requeue gives a fresh budget; purge deletes", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", [cmd({ id: "a", options: anOptions({ retry: { maxAttempts: 1 } }) }), cmd({ id: "b", options: anOptions({ retry: { maxAttempts: 1 } }) })]);
    for (const task of await daemon.poll(poll)) await daemon.fail(task.id, task.lease!.token, { type: "E", message: "m" });
    expect(daemon.queues.list("")[0]).toMatchObject({ failed: 2 });
    await expect(daemon.deadLetters.requeue("q", { ids: ["nope"] })).rejects.toThrow(/not found/);
    expect(await daemon.deadLetters.requeue("q", { ids: ["a"] })).toEqual(["a"]);
    expect(daemon.queues.list("")[0]).toMatchObject({ failed: 1, pending: 1 });
    const [again] = await daemon.poll(poll);
    expect(again).toMatchObject({ id: "a", attempt: 2 });
    await daemon.complete("a", again!.lease!.token, "1");
    // The attempt that ended the task lived on its row; the requeue kept it in the history.
    expect((await daemon.getTask("a")).attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "failed"],
      [2, "completed"],
    ]);
    expect((await daemon.getTask("a")).record.errorJson).toBeUndefined();
    expect(await daemon.deadLetters.purge("q")).toBe(1);
    expect(daemon.queues.list("")[0]).toMatchObject({ failed: 0, completed: 1 });
    await daemon.stop();
  });

  test("retention deletes final tasks older than the period, in batches", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path, new FakeClock(), 60_000);
    await daemon.enqueue("q", [1, 2, 3, 4, 5].map((n) => cmd({ id: `t${n}` })));
    for (const task of await daemon.poll(poll)) await daemon.complete(task.id, task.lease!.token, undefined);
    await daemon.enqueue("q", [cmd({ id: "live" })]);
    expect(daemon.queues.list("")[0]).toMatchObject({ completed: 5, pending: 1 });
    await clock.advance(61_000);
    await clock.advance(1_000);
    expect(daemon.queues.list("")[0]).toMatchObject({ completed: 0, pending: 1 });
    await expect(daemon.getTask("t1")).rejects.toThrow(/not found/);
    expect((await daemon.getTask("live")).record.state).toBe("pending");
    await daemon.stop();
  });

  test("retention deletes closed workflows with their histories; running ones stay", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path, new FakeClock(), 60_000);
    await daemon.startWorkflow({ id: "done", type: "w", queue: "q", inputJson: undefined });
    await daemon.startWorkflow({ id: "running", type: "w", queue: "q", inputJson: undefined });
    const [task] = await daemon.poll({ ...poll, types: ["tqd.workflow:w"], max: 1 });
    const workflowId = (JSON.parse(task!.inputJson!) as { workflowId: string }).workflowId;
    await daemon.answerWorkflowTask(workflowId, { taskId: task!.id, leaseToken: task!.lease!.token, seenUpTo: 1, mode: "fresh", commands: [{ kind: "completeWorkflow", resultJson: "1" }] });
    const other = workflowId === "done" ? "running" : "done";
    await clock.advance(61_000);
    await clock.advance(1_000);
    expect(daemon.workflows.read(workflowId)).toBeUndefined();
    expect(daemon.workflowHistory(other, 0, 10).events).toHaveLength(1);
    await daemon.stop();
  });

  test("reusing a producer id: live states return the task; final states follow ifExists", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    const once = anOptions({ retry: { maxAttempts: 1 } });
    await daemon.enqueue("q", [
      cmd({ id: "scheduled", delayMs: 60_000 }),
      cmd({ id: "running" }),
      cmd({ id: "completed" }),
      cmd({ id: "failed", options: once }),
    ]);
    const leased = await daemon.poll({ ...poll, max: 3 });
    const byId = new Map(leased.map((task) => [task.id, task]));
    await daemon.complete("completed", byId.get("completed")!.lease!.token, undefined);
    await daemon.fail("failed", byId.get("failed")!.lease!.token, { type: "E", message: "m" });
    await daemon.enqueue("q", [cmd({ id: "pending" }), cmd({ id: "canceled" }), cmd({ id: "timed_out", options: anOptions({ scheduleToStartMs: 1_000 }) })]);
    await daemon.cancel("canceled");
    await clock.advance(1_000);
    for (const state of ["scheduled", "pending", "running"]) {
      const [outcome] = await daemon.enqueue("q", [cmd({ id: state })]);
      expect(outcome).toMatchObject({ id: state, state, created: false });
    }
    for (const state of ["completed", "failed", "canceled", "timed_out"]) {
      await expect(daemon.enqueue("q", [cmd({ id: state })])).rejects.toThrow(ConflictError);
      expect((await daemon.enqueue("q", [cmd({ id: state, ifExists: "return" })]))[0]).toMatchObject({ state, created: false });
      expect((await daemon.enqueue("q", [cmd({ id: state, ifExists: "new" })]))[0]).toMatchObject({ state: "pending", created: true });
    }
    await daemon.stop();
  });

  test("a delayed task is not dispatched before its time", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    await daemon.enqueue("q", [cmd({ id: "later", delayMs: 5_000 })]);
    const waiting = daemon.poll({ ...poll, waitMs: 60_000 });
    await clock.advance(4_999);
    expect(daemon.pollersWaiting()).toBe(1);
    await clock.advance(1);
    expect((await waiting).map((t) => t.id)).toEqual(["later"]);
    await daemon.stop();
  });
});
