import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { describe, expect, test } from "vitest";
import { ConflictError, NotFoundError, UnavailableError } from "../../lib/core/index.ts";
import { Daemon, type EnqueueCommand } from "../../lib/daemon/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { openSqliteStore } from "../../lib/store/index.ts";
import { failingStore, type FailingStore } from "../support/failing-store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { anOptions } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

const cmd = (type = "t", extra: Partial<EnqueueCommand> = {}, startToCloseMs = 10_000): EnqueueCommand => ({
  type,
  inputJson: '{"n":1}',
  priority: 3,
  options: anOptions({ startToCloseMs }),
  ...extra,
});
const poll = (queue = "q", waitMs = 0, max = 10) => ({ queue, types: ["t"], max, waitMs, identity: "w1" });

async function setup(dataDir: string) {
  const clock = new FakeClock();
  const store = failingStore(await openSqliteStore({ dataDir, pid: 1 }));
  const daemon = await Daemon.start({ store, clock, log: silentLogger, naming: WORKFLOW_NAMING });
  return { clock, store: store as FailingStore, daemon };
}

describe("daemon", () => {
  test("an acknowledged enqueue survives a restart", async () => {
    await using dir = await tempDir();
    const first = await setup(dir.path);
    const [outcome] = await first.daemon.enqueue("q", [cmd()]);
    await first.daemon.stop();
    const second = await setup(dir.path);
    expect((await second.daemon.getTask(outcome!.id)).record.state).toBe("pending");
    expect(await second.daemon.poll(poll())).toHaveLength(1);
    await second.daemon.stop();
  });

  test("a parked poll gets the next task enqueued, and times out empty on the clock", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    const parked = daemon.events.next("poll.parked");
    const waiting = daemon.poll(poll("q", 30_000));
    await parked;
    const [outcome] = await daemon.enqueue("q", [cmd()]);
    const [task] = await waiting;
    expect(task?.id).toEqual(outcome!.id);
    await daemon.complete(task!.id, task!.lease!.token, undefined);

    const empty = daemon.poll(poll("q", 30_000));
    await clock.advance(29_999);
    expect(daemon.pollersWaiting()).toBe(1);
    await clock.advance(1);
    expect(await empty).toEqual([]);
    await daemon.stop();
  });

  test("an expired lease redelivers the task with attempt 2", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    await daemon.enqueue("q", [cmd("t", {}, 5_000)]);
    const [first] = await daemon.poll(poll());
    const firstToken = first!.lease!.token;
    const expired = daemon.events.next("lease.expired");
    await clock.advance(5_000);
    await expired;
    expect(await daemon.poll(poll())).toEqual([]);
    await clock.advance(1_000);
    const [second] = await daemon.poll(poll());
    expect(second).toMatchObject({ id: first!.id, attempt: 2 });
    await expect(daemon.complete(first!.id, firstToken, undefined)).rejects.toThrow(ConflictError);
    await daemon.stop();
  });

  test("the lease token of an attempt that already expired is refused", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    await daemon.enqueue("q", [cmd("t", {}, 1_000)]);
    const [task] = await daemon.poll(poll());
    const token = task!.lease!.token;
    await clock.advance(1_000);
    await expect(daemon.complete(task!.id, token, "1")).rejects.toThrow(ConflictError);
    await daemon.stop();
  });

  test("completing twice with the same token is harmless; another token is a conflict", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    await daemon.enqueue("q", [cmd()]);
    const [task] = await daemon.poll(poll());
    const token = task!.lease!.token;
    expect((await daemon.complete(task!.id, token, '"ok"')).state).toBe("completed");
    expect((await daemon.complete(task!.id, token, '"ok"')).state).toBe("completed");
    await expect(daemon.complete(task!.id, "other", undefined)).rejects.toThrow(ConflictError);
    await expect(daemon.fail(task!.id, token, { type: "E", message: "m" })).rejects.toThrow(ConflictError);
    expect((await daemon.getTask(task!.id)).record).toMatchObject({ state: "completed", resultJson: '"ok"', attempt: 1 });
    await daemon.stop();
  });

  test("a producer id is an idempotency key, also between concurrent requests", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    const results = await Promise.all([daemon.enqueue("q", [cmd("t", { id: "order-1" })]), daemon.enqueue("q", [cmd("t", { id: "order-1" })])]);
    expect(results.map(([o]) => o!.created).sort()).toEqual([false, true]);
    expect(daemon.queues.list("")[0]?.pending).toBe(1);
    const [task] = await daemon.poll(poll());
    await daemon.complete(task!.id, task!.lease!.token, undefined);
    await expect(daemon.enqueue("q", [cmd("t", { id: "order-1" })])).rejects.toThrow(/already ended completed/);
    const [returned] = await daemon.enqueue("q", [cmd("t", { id: "order-1", ifExists: "return" })]);
    expect(returned).toMatchObject({ id: "order-1", created: false, state: "completed" });
    await expect(daemon.enqueue("q", [cmd("other", { id: "order-1", ifExists: "return" })])).rejects.toThrow(ConflictError);
    const [rerun] = await daemon.enqueue("q", [cmd("t", { id: "order-1", ifExists: "new" })]);
    expect(rerun).toMatchObject({ id: "order-1", created: true, state: "pending" });
    expect(daemon.queues.list("")[0]).toMatchObject({ pending: 1, completed: 0 });
    expect((await daemon.getTask("order-1")).attempts).toEqual([]);
    await daemon.stop();
  });

  test("a failed commit answers unavailable and changes nothing", async () => {
    await using dir = await tempDir();
    const { daemon, store } = await setup(dir.path);
    store.failNext(1);
    await expect(daemon.enqueue("q", [cmd("t", { id: "x" })])).rejects.toThrow(UnavailableError);
    await expect(daemon.getTask("x")).rejects.toThrow(NotFoundError);
    expect(daemon.queueCounts()).toEqual([]);

    await daemon.enqueue("q", [cmd("t", { id: "x" })]);
    const [task] = await daemon.poll(poll());
    store.failNext(1);
    await expect(daemon.complete("x", task!.lease!.token, "1")).rejects.toThrow(UnavailableError);
    expect((await daemon.getTask("x")).record.state).toBe("running");
    await daemon.complete("x", task!.lease!.token, "1");
    expect((await daemon.getTask("x")).record.state).toBe("completed");
    await daemon.stop();
  });

  test("a heartbeat stores details durably and extends the lease by the heartbeat timeout", async () => {
    await using dir = await tempDir();
    const { daemon, clock } = await setup(dir.path);
    await daemon.enqueue("q", [cmd("t", { options: anOptions({ startToCloseMs: 60_000, heartbeatMs: 1_000 }) })]);
    const [task] = await daemon.poll(poll());
    await clock.advance(900);
    const { leaseDeadline } = await daemon.heartbeat(task!.id, task!.lease!.token, '{"done":3}');
    expect(leaseDeadline).toBe(clock.now() + 1_000);
    await clock.advance(900);
    expect((await daemon.getTask(task!.id)).record.state).toBe("running");
    await daemon.stop();
    const again = await setup(dir.path);
    expect((await again.daemon.getTask(task!.id)).record.heartbeatJson).toBe('{"done":3}');
    await again.daemon.stop();
  });

  test("getTask with a wait returns when the task finishes", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    const [outcome] = await daemon.enqueue("q", [cmd()]);
    const waiting = daemon.getTask(outcome!.id, 60_000);
    const [task] = await daemon.poll(poll());
    await daemon.fail(task!.id, task!.lease!.token, { type: "Boom", message: "no", nonRetryable: true });
    expect((await waiting).record).toMatchObject({ state: "failed", errorJson: '{"type":"Boom","message":"no","nonRetryable":true}' });
    await daemon.stop();
  });

  test("stopping answers parked polls empty and refuses new work", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    const parked = daemon.events.next("poll.parked");
    const waiting = daemon.poll(poll("q", 60_000));
    await parked;
    await daemon.stop();
    expect(await waiting).toEqual([]);
    await expect(daemon.enqueue("q", [cmd()])).rejects.toThrow(UnavailableError);
  });

  test("a poll whose client went away gives its tasks back", async () => {
    await using dir = await tempDir();
    const { daemon } = await setup(dir.path);
    const gone = new AbortController();
    const parked = daemon.events.next("poll.parked");
    const waiting = daemon.poll(poll("q", 60_000), gone.signal);
    await parked;
    gone.abort();
    expect(await waiting).toEqual([]);
    await daemon.enqueue("q", [cmd()]);
    expect(daemon.queues.list("")[0]).toMatchObject({ pending: 1, running: 0, pollersWaiting: 0 });
    await daemon.stop();
  });

  test("only dispatch records wait to ride along with a commit; a release is answered once its give-backs are on disk", async () => {
    await using dir = await tempDir();
    const inner = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const staged: { ops: string[]; rideAlong: boolean }[] = [];
    const store = failingStore(inner);
    const spied = { ...store, stage: (ops: Parameters<typeof inner.stage>[0], options?: { rideAlong?: boolean }) => {
      // The queue's poll time (the typo guard's) is staged too; this test is about the tasks.
      if (ops.some((op) => op.op.startsWith("tasks."))) staged.push({ ops: ops.map((op) => op.op), rideAlong: options?.rideAlong ?? false });
      inner.stage(ops, options);
    } };
    const daemon = await Daemon.start({ store: spied, clock: new FakeClock(), log: silentLogger, naming: WORKFLOW_NAMING });
    await daemon.enqueue("q", [cmd(), cmd()]);
    const leased = await daemon.poll(poll());
    expect(staged).toEqual([{ ops: ["tasks.markDispatched", "tasks.markDispatched"], rideAlong: true }]);
    staged.length = 0;
    // A worker that stops gives them back and may exit at once; losing that write in a crash
    // would strand them for a whole lease. So the answer waits for the commit: the rows read
    // pending as soon as it comes (a staged write would still be queued, two turns away).
    expect(await daemon.release(leased.map((task) => ({ id: task.id, leaseToken: task.lease!.token })))).toEqual([{ released: true }, { released: true }]);
    expect(staged).toEqual([]);
    for (const task of leased) expect(inner.readTask(task.id)?.state).toBe("pending");
    await daemon.stop();
  });
});
