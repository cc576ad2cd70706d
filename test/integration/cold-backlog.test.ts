/**
 * A deep backlog waits in the store (lib/core/cold-tail.ts): a daemon that keeps 4 pending
 * tasks per ready line in memory, on a real SQLite file, must dispatch every task once, in
 * order, with its input, across restarts, cancels, priorities, types and fairness keys.
 */
import { describe, expect, test } from "vitest";
import { UnavailableError } from "../../lib/core/index.ts";
import { Daemon, type EnqueueCommand, type PollCommand } from "../../lib/daemon/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { openSqliteStore } from "../../lib/store/index.ts";
import { failingStore } from "../support/failing-store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { anOptions } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const HOT = 4;

const cmd = (n: number, extra: Partial<EnqueueCommand> = {}): EnqueueCommand => ({
  type: "t",
  inputJson: JSON.stringify({ n }),
  priority: 3,
  options: anOptions({ startToCloseMs: 60_000 }),
  ...extra,
});
const poll = (max: number, extra: Partial<PollCommand> = {}): PollCommand => ({ queue: "q", types: ["t"], max, waitMs: 0, identity: "w1", ...extra });

async function setup(dataDir: string, clock = new FakeClock()) {
  const store = failingStore(await openSqliteStore({ dataDir, pid: 1 }));
  const daemon = await Daemon.start({ store, clock, log: silentLogger, naming: WORKFLOW_NAMING, hotTasks: HOT, hotTasksPerLine: HOT });
  return { clock, daemon, store };
}

/** Polls `max` at a time until nothing comes; completes each task; returns the inputs in dispatch order. */
async function drain(daemon: Daemon, command: Partial<PollCommand> = {}, max = 3): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const tasks = await daemon.poll(poll(max, command));
    if (tasks.length === 0) return seen;
    for (const task of tasks) {
      seen.push((JSON.parse(task.inputJson!) as { n: number }).n);
      await daemon.complete(task.id, task.lease!.token, undefined);
    }
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const inStoreOnly = (daemon: Daemon) => daemon.metrics().tasksInStoreOnly;

describe("a deep backlog waits in the store", () => {
  test("tasks beyond a line's hot ones are counted, then dispatched once each, in order, with their inputs", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 10).map((n) => cmd(n)));
    await daemon.enqueue("q", range(10, 25).map((n) => cmd(n)));
    expect(inStoreOnly(daemon)).toBe(21);
    expect(daemon.metrics().liveTasks).toBe(25);
    expect(daemon.queues.describe("q")).toMatchObject({ counts: { pending: 25 }, pendingInStore: 21 });
    expect(await drain(daemon)).toEqual(range(0, 25));
    expect(inStoreOnly(daemon)).toBe(0);
    expect(daemon.queues.describe("q").counts).toMatchObject({ pending: 0, running: 0, completed: 25 });
    await daemon.stop();
  });

  test("a restart keeps the backlog in the store and drains it in order", async () => {
    await using dir = await tempDir();
    const first = await setup(dir.path);
    await first.daemon.enqueue("q", range(0, 30).map((n) => cmd(n)));
    const taken = await first.daemon.poll(poll(2));
    await first.daemon.stop();

    const second = await setup(dir.path);
    // The two leased tasks are running still (their leases outlive the restart).
    expect(second.daemon.metrics().liveTasks).toBe(30);
    expect(inStoreOnly(second.daemon)).toBe(30 - 2 - HOT);
    expect(await drain(second.daemon)).toEqual(range(2, 30));
    expect(taken.map((task) => task.inputJson)).toEqual(['{"n":0}', '{"n":1}']);
    await second.daemon.stop();
  });

  test("a cold task can be read, explained and canceled by id, and is then never dispatched", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    const outcomes = await daemon.enqueue("q", range(0, 12).map((n) => cmd(n)));
    const cold = outcomes[9]!.id;
    const details = await daemon.getTask(cold);
    expect(details.record).toMatchObject({ state: "pending", inputJson: '{"n":9}' });
    expect(daemon.explain(cold).reason).toBe("no_poller");
    const { record } = await daemon.cancel(cold);
    expect(record.state).toBe("canceled");
    expect(inStoreOnly(daemon)).toBe(12 - HOT - 1);
    expect(daemon.queues.describe("q").counts).toMatchObject({ pending: 11, canceled: 1 });
    expect(await drain(daemon)).toEqual(range(0, 12).filter((n) => n !== 9));
    await daemon.stop();
  });

  test("a cold task whose cancel could not be committed stays pending, in memory, and runs once", async () => {
    await using dir = await tempDir();
    const { daemon, store } = await setup(dir.path);
    const outcomes = await daemon.enqueue("q", range(0, 10).map((n) => cmd(n)));
    store.failNext(1);
    await expect(daemon.cancel(outcomes[8]!.id)).rejects.toThrow(UnavailableError);
    expect(inStoreOnly(daemon)).toBe(10 - HOT - 1);
    expect((await daemon.getTask(outcomes[8]!.id)).record.state).toBe("pending");
    // Read in by the cancel, it joined the line's tasks in memory, ahead of the cold ones.
    expect(await drain(daemon)).toEqual([0, 1, 2, 3, 8, 4, 5, 6, 7, 9]);
    await daemon.stop();
  });

  test("enqueueing a cold task's id again returns the task instead of a second one", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 8).map((n) => cmd(n, { id: `job-${n}` })));
    const [again] = await daemon.enqueue("q", [cmd(99, { id: "job-7" })]);
    expect(again).toMatchObject({ id: "job-7", created: false });
    expect(await drain(daemon)).toEqual(range(0, 8));
    await daemon.stop();
  });

  test("a cold backlog of low priority does not hold back a later task of higher priority", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 10).map((n) => cmd(n, { priority: 5 })));
    await daemon.enqueue("q", [cmd(100, { priority: 1 })]);
    expect(await drain(daemon, {}, 1)).toEqual([100, ...range(0, 10)]);
    await daemon.stop();
  });

  test("a worker for another type is not starved by a cold backlog of the first", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 10).map((n) => cmd(n)));
    await daemon.enqueue("q", range(10, 20).map((n) => cmd(n, { type: "u" })));
    expect(inStoreOnly(daemon)).toBe(12);
    expect(await drain(daemon, { types: ["u"] })).toEqual(range(10, 20));
    expect(await drain(daemon, { types: ["t"] })).toEqual(range(0, 10));
    await daemon.stop();
  });

  test("fairness keys with cold backlogs keep taking turns", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 8).map((n) => cmd(n, { fairnessKey: "a" })));
    await daemon.enqueue("q", range(10, 18).map((n) => cmd(n, { fairnessKey: "b" })));
    expect(daemon.queues.describe("q").fairness).toEqual([
      { key: "a", weight: 1, ratePerSecond: undefined, pending: 8 },
      { key: "b", weight: 1, ratePerSecond: undefined, pending: 8 },
    ]);
    expect(await drain(daemon, {}, 1)).toEqual(range(0, 8).flatMap((n) => [n, n + 10]));
    await daemon.stop();
  });

  test("backlogs over many fairness keys stay within the budget, each key keeping its floor", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const daemon = await Daemon.start({ store, clock: new FakeClock(), log: silentLogger, naming: WORKFLOW_NAMING, hotTasks: 10, hotTasksPerLine: 2 });
    const keys = range(0, 20).map((k) => `tenant-${k}`);
    for (const key of keys) await daemon.enqueue("q", range(0, 10).map((n) => cmd(n, { fairnessKey: key })));
    const inMemory = daemon.metrics().liveTasks - inStoreOnly(daemon);
    // The first 10 while the budget had room, then 2 for each key that had fewer.
    expect(inMemory).toBe(10 + 19 * 2);
    const order = await drain(daemon, {}, 1);
    expect(order).toHaveLength(200);
    // Round-robin: every key's n-th task goes out before any key's (n+1)-th.
    expect(order).toEqual(range(0, 10).flatMap((n) => range(0, 20).map(() => n)));
    await daemon.stop();
  });

  test("a parked poll gets the first task of an empty queue, and tasks with timers stay in memory", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", range(0, 6).map((n) => cmd(n, { options: anOptions({ startToCloseMs: 60_000, scheduleToStartMs: 60_000 }) })));
    expect(inStoreOnly(daemon)).toBe(0);
    expect(await drain(daemon)).toEqual(range(0, 6));
    const parked = daemon.events.next("poll.parked");
    const waiting = daemon.poll(poll(1, { waitMs: 30_000 }));
    await parked;
    await daemon.enqueue("q", range(0, 6).map((n) => cmd(n)));
    expect((await waiting).map((task) => task.inputJson)).toEqual(['{"n":0}']);
    await daemon.stop();
  });

  test("a paused queue's cold backlog goes out after the resume", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.queues.setPaused("q", true);
    await daemon.enqueue("q", range(0, 9).map((n) => cmd(n)));
    expect(await daemon.poll(poll(5))).toEqual([]);
    await daemon.queues.setPaused("q", false);
    expect(await drain(daemon, {}, 5)).toEqual(range(0, 9));
    await daemon.stop();
  });

  test("a workflow's activity that waits in the store at boot is read in, so canceling the workflow cancels it", async () => {
    await using dir = await tempDir();
    const call = (server: TestServer, method: string, path: string, body?: unknown) =>
      server.fetch(new Request("http://tqd.test" + path, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
    let activityId: string;
    {
      await using server = await startTestServer({ dataDir: dir.path, hotTasks: 2 });
      await call(server, "POST", "/v1/queues/files/tasks/batch", { tasks: range(0, 5).map((n) => ({ type: "download", input: { n } })) });
      await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf" });
      const [wt] = (await (await call(server, "POST", "/v1/queues/files/poll", { identity: "w1", types: ["tqd.workflow:pipeline"], waitMs: 0 })).json()).tasks;
      const answered = await call(server, "POST", "/v1/workflows/wf/task-complete", {
        taskId: wt.id,
        leaseToken: wt.leaseToken,
        seenUpTo: 1,
        commands: [{ kind: "scheduleActivity", seq: 1, type: "download", input: { n: 99 } }],
        mode: "fresh",
      });
      expect(answered.status).toBe(200);
      activityId = (await (await call(server, "GET", "/v1/workflows/wf")).json()).pendingActivities[0].taskId;
    }
    await using server = await startTestServer({ dataDir: dir.path, hotTasks: 2 });
    // The five plain tasks and the activity, behind them in the same line: all but two in the store at boot, the activity read in.
    expect(server.daemon.metrics().tasksInStoreOnly).toBe(3);
    expect((await call(server, "POST", "/v1/workflows/wf/cancel", { reason: "test" })).status).toBe(200);
    expect((await (await call(server, "GET", `/v1/tasks/${activityId}`)).json()).state).toBe("canceled");
  });

  test("requeued dead tasks join the back of their line and wait in the store beyond the budget, across a restart", async () => {
    await using dir = await tempDir();
    const first = await setup(dir.path);
    const once = { options: anOptions({ startToCloseMs: 60_000, retry: { maxAttempts: 1 } }) };
    const enqueued = await first.daemon.enqueue("q", range(0, 12).map((n) => cmd(n, once)));
    for (let tasks = await first.daemon.poll(poll(5)); tasks.length > 0; tasks = await first.daemon.poll(poll(5))) {
      for (const task of tasks) await first.daemon.fail(task.id, task.lease!.token, { type: "E", message: "no" });
    }
    expect(first.daemon.queues.describe("q").counts).toMatchObject({ pending: 0, failed: 12 });
    await first.daemon.enqueue("q", range(100, 103).map((n) => cmd(n)));
    expect(await first.daemon.deadLetters.requeue("q", { all: true })).toHaveLength(12);
    // 15 pending, 4 of them in memory: the requeue did not bring all 12 in.
    expect(first.daemon.queues.describe("q")).toMatchObject({ counts: { pending: 15, failed: 0 }, pendingInStore: 11 });
    const requeued = await first.daemon.getTask(enqueued[0]!.id);
    expect(requeued.record).toMatchObject({ state: "pending", inputJson: '{"n":0}' });
    expect(requeued.attempts.map((attempt) => attempt.outcome)).toEqual(["failed"]);
    await first.daemon.stop();

    const second = await setup(dir.path);
    expect(inStoreOnly(second.daemon)).toBe(11);
    expect(await drain(second.daemon)).toEqual([...range(100, 103), ...range(0, 12)]);
    expect(second.daemon.queues.describe("q").counts).toMatchObject({ pending: 0, completed: 15, failed: 0 });
    expect((await second.daemon.getTask(enqueued[11]!.id)).record.state).toBe("completed");
    await second.daemon.stop();
  });
});
