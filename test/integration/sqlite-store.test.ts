import { Database } from "bun:sqlite";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { TaskRecord } from "../../lib/core/index.ts";
import { DataDirLockedError, openSqliteStore, type LiveSnapshot, type StoreOp } from "../../lib/store/index.ts";
import { anOptions, aTaskRecord } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

/** The live tasks a boot reads whole, each by its placement. */
function liveRecords(snapshot: LiveSnapshot): TaskRecord[] {
  return [...snapshot.live.placements].map((placement) => snapshot.live.readLive(placement.seq)!);
}

describe("sqlite store", () => {
  test("commits an insert and reads it back after reopening", async () => {
    await using dir = await tempDir();
    const task = aTaskRecord({ queue: "emails", inputJson: '{"to":"a@b.c"}' });
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit([{ op: "tasks.insert", task }]);
    await store.close();

    const reopened = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    expect(reopened.readTask(task.id)).toEqual(task);
    const snapshot = await reopened.loadLive();
    expect(liveRecords(snapshot).map((t) => t.id)).toEqual([task.id]);
    expect(snapshot.maxSeq).toBe(task.seq);
    await reopened.close();
  });

  test("a task with the default options is stored without them and reads back the same; other options are stored", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const tasks = [
      aTaskRecord({ options: anOptions() }),
      aTaskRecord({ options: anOptions({ startToCloseMs: 60_000 }) }),
      aTaskRecord({ options: anOptions({ retry: { maxAttempts: 3 } }) }),
      aTaskRecord({ options: anOptions({ heartbeatMs: 5_000 }) }),
    ];
    await store.commit(tasks.map((task) => ({ op: "tasks.insert", task })));
    await store.close();
    const raw = new Database(join(dir.path, "tqd.db"), { readonly: true });
    const rows = raw.query("SELECT options, start_to_close_ms FROM tasks ORDER BY seq").all() as { options: string | null; start_to_close_ms: number }[];
    raw.close();
    expect(rows.map((row) => row.options === null)).toEqual([true, true, false, false]);
    expect(rows[1]!.start_to_close_ms).toBe(60_000);
    const reopened = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    for (const task of tasks) expect(reopened.readTask(task.id)).toEqual(task);
    expect(liveRecords(await reopened.loadLive()).map((task) => task.options)).toEqual(tasks.map((task) => task.options));
    await reopened.close();
  });

  test("a full save writes every mutable column, by seq and by id, and reads back as saved", async () => {
    await using dir = await tempDir();
    const [bySeq, byId] = [aTaskRecord({ queue: "emails" }), aTaskRecord({ queue: "emails" })];
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit([bySeq, byId].map((task) => ({ op: "tasks.insert", task })));
    // Every mutable field away from its insert value (and the id-only path: a seq of no row).
    const saved = (task: TaskRecord): TaskRecord => ({
      ...task,
      queue: "emails@host:h1",
      state: "scheduled",
      attempt: 3,
      budgetStart: 1,
      resultJson: '{"partial":true}',
      errorJson: '{"type":"Boom","message":"no"}',
      heartbeatJson: '{"step":2}',
      leaseToken: "L9",
      leaseDeadline: 9_000,
      worker: "w2",
      startedAt: 4_000,
      finishedAt: 8_000,
      runAt: 12_000,
      readyAt: 3_000,
      closeDeadline: 20_000,
      cancelRequested: true,
      fallbackAt: 15_000,
    });
    await store.commit([
      { op: "tasks.saveState", task: saved(bySeq) },
      { op: "tasks.saveState", task: { ...saved(byId), seq: 999_999 } },
    ]);
    expect(store.readTask(bySeq.id)).toEqual(saved(bySeq));
    expect(store.readTask(byId.id)).toEqual(saved(byId));
    await store.close();
  });

  test("groups concurrent commits into one transaction", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const tasks = Array.from({ length: 50 }, () => aTaskRecord());
    await Promise.all(tasks.map((task) => store.commit([{ op: "tasks.insert", task }])));
    expect(store.stats()).toMatchObject({ commits: 1, opsCommitted: 50 });
    await store.close();
  });

  test("a dispatch record saved over in the same transaction is not written, and the row is the same", async () => {
    await using dir = await tempDir();
    const [coalesced, apart] = [aTaskRecord(), aTaskRecord()];
    const first = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await first.commit([coalesced, apart].map((task) => ({ op: "tasks.insert", task })));
    await first.close();
    // Count row updates from outside the store (the trigger lives in the file).
    const setup = new Database(join(dir.path, "tqd.db"));
    setup.exec("CREATE TABLE audit (id TEXT); CREATE TRIGGER audit_updates AFTER UPDATE ON tasks BEGIN INSERT INTO audit VALUES (new.id); END;");
    setup.close();
    const dispatchOf = (task: TaskRecord): StoreOp => ({ op: "tasks.markDispatched", id: task.id, seq: task.seq, attempt: 1, leaseToken: "L1", leaseDeadline: 5_000, worker: "w", startedAt: 1_000 });
    const settledOf = (task: TaskRecord): StoreOp => ({
      op: "tasks.saveState",
      task: { ...task, state: "completed", attempt: 1, worker: "w", startedAt: 1_000, finishedAt: 2_000, readyAt: undefined, resultJson: '"ok"' },
    });
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit([dispatchOf(coalesced), settledOf(coalesced)]);
    await store.commit([dispatchOf(apart)]);
    await store.commit([settledOf(apart)]);
    await store.close();
    const raw = new Database(join(dir.path, "tqd.db"), { readonly: true });
    const updates = raw.query("SELECT id, count(*) AS n FROM audit GROUP BY id").all() as { id: string; n: number }[];
    const rows = raw.query("SELECT * FROM tasks ORDER BY seq").all() as Record<string, unknown>[];
    raw.close();
    expect(new Map(updates.map((u) => [u.id, u.n]))).toEqual(new Map([[coalesced.id, 1], [apart.id, 2]]));
    const { id: _a, seq: _s, input: _i, ...coalescedRow } = rows[0]!;
    const { id: _b, seq: _t, input: _j, ...apartRow } = rows[1]!;
    expect(coalescedRow).toEqual(apartRow);
  });

  test("dispatch records and saves find their row by seq, and by id when the seq does not name it", async () => {
    await using dir = await tempDir();
    const [bySeq, stray] = [aTaskRecord(), aTaskRecord()];
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit([bySeq, stray].map((task) => ({ op: "tasks.insert", task })));
    const dispatch = (task: TaskRecord, seq: number): StoreOp => ({ op: "tasks.markDispatched", id: task.id, seq, attempt: 1, leaseToken: "L1", leaseDeadline: 5_000, worker: "w", startedAt: 1_000 });
    // A seq naming another task's row must not touch that row.
    await store.commit([dispatch(bySeq, bySeq.seq), dispatch(stray, bySeq.seq)]);
    expect(store.readTask(bySeq.id)).toMatchObject({ state: "running", leaseToken: "L1", worker: "w" });
    expect(store.readTask(stray.id)).toMatchObject({ state: "running", leaseToken: "L1", worker: "w" });
    const done = (task: TaskRecord, seq: number): StoreOp => ({ op: "tasks.saveState", task: { ...task, seq, state: "completed", attempt: 1, startedAt: 1_000, finishedAt: 2_000, readyAt: undefined, resultJson: '"ok"' } });
    await store.commit([done(bySeq, bySeq.seq), done(stray, 999_999)]);
    expect(store.readTask(bySeq.id)).toMatchObject({ state: "completed", finishedAt: 2_000, resultJson: '"ok"' });
    expect(store.readTask(stray.id)).toMatchObject({ state: "completed", finishedAt: 2_000, resultJson: '"ok"' });
    await store.close();
  });

  test("a failing write fails only its own submission", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const first = aTaskRecord();
    await store.commit([{ op: "tasks.insert", task: first }]);
    const good = aTaskRecord();
    const duplicate = { ...aTaskRecord(), id: first.id };
    const results = await Promise.allSettled([
      store.commit([{ op: "tasks.insert", task: duplicate }]),
      store.commit([{ op: "tasks.insert", task: good }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(store.readTask(good.id)?.id).toBe(good.id);
    await store.close();
  });

  test("final tasks are counted, not loaded, at boot", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const done = aTaskRecord({ queue: "a" });
    const open = aTaskRecord({ queue: "a" });
    await store.commit([
      { op: "tasks.insert", task: done },
      { op: "tasks.insert", task: open },
      { op: "tasks.saveState", task: { ...done, state: "completed", attempt: 1, leaseToken: "tok", worker: "w", startedAt: 5, resultJson: "42", finishedAt: 9 } },
      { op: "attempts.insert", attempt: { taskId: done.id, attempt: 1, worker: "w", startedAt: 5, endedAt: 9, outcome: "completed", errorJson: undefined } },
    ]);
    const snapshot = await store.loadLive();
    expect(liveRecords(snapshot).map((t) => t.id)).toEqual([open.id]);
    expect(store.finalCounts("")).toEqual([{ queue: "a", state: "completed", count: 1 }]);
    expect(store.finalCountsOf("a")).toEqual([{ queue: "a", state: "completed", count: 1 }]);
    expect(store.finalCounts("b")).toEqual([]);
    expect(store.readTask(done.id)).toMatchObject({ state: "completed", resultJson: "42", leaseToken: "tok", attempt: 1 });
    expect(store.readAttempts(done.id)).toEqual([{ taskId: done.id, attempt: 1, worker: "w", startedAt: 5, endedAt: 9, outcome: "completed", errorJson: undefined }]);
    await store.close();
  });

  test("boot loads every task without a finish time, in enqueue order, including one requeued from the dead", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const scheduled = aTaskRecord({ state: "scheduled", runAt: 50 });
    const running = aTaskRecord({ state: "running", attempt: 1, leaseToken: "t", leaseDeadline: 99, worker: "w", startedAt: 5 });
    const dead = aTaskRecord({ state: "failed", finishedAt: 7 });
    const pending = aTaskRecord();
    await store.commit([scheduled, running, dead, pending].map((task) => ({ op: "tasks.insert", task })));
    expect(liveRecords(await store.loadLive()).map((t) => t.id)).toEqual([scheduled.id, running.id, pending.id]);
    // A requeue writes the task back live: no finish time.
    await store.commit([{ op: "tasks.saveState", task: { ...dead, state: "pending", finishedAt: undefined } }]);
    expect(liveRecords(await store.loadLive()).map((t) => t.id)).toEqual([scheduled.id, running.id, dead.id, pending.id]);
    await store.close();
  });

  test("lists dead tasks by queue and final tasks by age, and deletes a task with its attempts", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const failed = aTaskRecord({ queue: "a", state: "failed", finishedAt: 100, errorJson: '{"type":"E","message":"m"}' });
    const timedOut = aTaskRecord({ queue: "a", state: "timed_out", finishedAt: 200 });
    const completed = aTaskRecord({ queue: "a", state: "completed", finishedAt: 50 });
    const otherQueue = aTaskRecord({ queue: "b", state: "failed", finishedAt: 10 });
    await store.commit([failed, timedOut, completed, otherQueue].map((task) => ({ op: "tasks.insert", task })));
    await store.commit([{ op: "attempts.insert", attempt: { taskId: failed.id, attempt: 1, worker: "w", startedAt: 1, endedAt: 2, outcome: "failed", errorJson: undefined } }]);
    expect(store.listDead("a", 10).map((t) => t.id)).toEqual([failed.id, timedOut.id]);
    expect(store.listFinishedBefore(150, 10).map((r) => r.id)).toEqual([otherQueue.id, completed.id, failed.id]);
    expect(store.listFinishedBefore(1_000, 10, { deadOfQueue: "a" })).toEqual([
      { id: failed.id, seq: failed.seq, queue: "a", state: "failed" },
      { id: timedOut.id, seq: timedOut.seq, queue: "a", state: "timed_out" },
    ]);
    await store.commit([{ op: "tasks.delete", id: failed.id, seq: failed.seq }]);
    expect(store.readTask(failed.id)).toBeUndefined();
    expect(store.readAttempts(failed.id)).toEqual([]);
    await store.close();
  });

  test("a second store on the same directory is refused while the first is open", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 4242 });
    await expect(openSqliteStore({ dataDir: dir.path, pid: 2 })).rejects.toThrow(DataDirLockedError);
    await expect(openSqliteStore({ dataDir: dir.path, pid: 2 })).rejects.toThrow(/pid 4242/);
    await store.close();
    const again = await openSqliteStore({ dataDir: dir.path, pid: 3 });
    await again.close();
  });
});
