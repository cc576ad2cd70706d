/**
 * Minted task ids carry their row's seq (lib/core/minted-task-id.ts), so only ids a producer
 * chose are indexed. These tests hold the lookups to that on a real SQLite file: minted and
 * producer ids are found, a producer id shaped like a minted one is never taken for the row at
 * its seq, idempotency spans both kinds, and a database from before the change keeps working.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { NotFoundError, seqInTaskId, type TaskRecord } from "../../lib/core/index.ts";
import { Daemon, type EnqueueCommand } from "../../lib/daemon/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { openSqliteStore } from "../../lib/store/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { tasksTableBefore0008 } from "../support/old-schemas.ts";
import { anOptions, aTaskRecord } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

const cmd = (extra: Partial<EnqueueCommand> = {}): EnqueueCommand => ({ type: "t", inputJson: '{"n":1}', priority: 3, options: anOptions({ startToCloseMs: 10_000 }), ...extra });
const poll = { queue: "q", types: ["t"], max: 10, waitMs: 0, identity: "w1" };

async function startDaemon(dataDir: string) {
  const store = await openSqliteStore({ dataDir, pid: 1 });
  return Daemon.start({ store, clock: new FakeClock(), log: silentLogger, naming: WORKFLOW_NAMING });
}

/** Runs every pending task of queue q to completion. */
async function completeAll(daemon: Daemon): Promise<void> {
  for (let tasks = await daemon.poll(poll); tasks.length > 0; tasks = await daemon.poll(poll)) {
    for (const task of tasks) await daemon.complete(task.id, task.lease!.token, '"done"');
  }
}

/** `id_indexed` of each row, by id. */
function indexedFlags(dataDir: string): Map<string, number | null> {
  const db = new Database(join(dataDir, "tqd.db"), { readonly: true });
  try {
    return new Map((db.query("SELECT id, id_indexed FROM tasks").all() as { id: string; id_indexed: number | null }[]).map((row) => [row.id, row.id_indexed]));
  } finally {
    db.close();
  }
}

/** `id` with its random digits replaced: the same time and seq, another id. */
function sameSeqOtherId(id: string): string {
  const random = id.slice(21);
  return id.slice(0, 21) + (random === "00000" ? "00001" : "00000");
}

describe("minted ids carry their seq", () => {
  test("a minted id finds its task after it ended, with no entry in the id index; a producer id is indexed", async () => {
    await using dir = await tempDir();
    const daemon = await startDaemon(dir.path);
    const [minted, named] = await daemon.enqueue("q", [cmd(), cmd({ id: "order-1" })]);
    await completeAll(daemon);
    expect((await daemon.getTask(minted!.id)).record).toMatchObject({ id: minted!.id, state: "completed", resultJson: '"done"' });
    expect((await daemon.getTask(named!.id)).record).toMatchObject({ id: "order-1", state: "completed" });
    await daemon.stop();
    expect(indexedFlags(dir.path)).toEqual(new Map([[minted!.id, null], ["order-1", 1]]));
    // And after a restart, from the store alone.
    const again = await startDaemon(dir.path);
    expect((await again.getTask(minted!.id)).record.state).toBe("completed");
    await again.stop();
  });

  test("a producer id shaped like a minted one is its own task, never the row at the seq it seems to carry", async () => {
    await using dir = await tempDir();
    const daemon = await startDaemon(dir.path);
    const [minted] = await daemon.enqueue("q", [cmd()]);
    const lookalike = sameSeqOtherId(minted!.id);
    expect(seqInTaskId(lookalike)).toBe(seqInTaskId(minted!.id));
    const [named] = await daemon.enqueue("q", [cmd({ id: lookalike, inputJson: '{"n":2}' })]);
    expect(named).toMatchObject({ id: lookalike, created: true });
    await completeAll(daemon);
    expect((await daemon.getTask(lookalike)).record).toMatchObject({ id: lookalike, inputJson: '{"n":2}', state: "completed" });
    expect((await daemon.getTask(minted!.id)).record).toMatchObject({ id: minted!.id, inputJson: '{"n":1}' });
    // Idempotent like any producer id, from the store.
    const [returned] = await daemon.enqueue("q", [cmd({ id: lookalike, ifExists: "return" })]);
    expect(returned).toMatchObject({ id: lookalike, created: false, state: "completed" });
    // Unknown ids of either shape are not found.
    await expect(daemon.getTask(sameSeqOtherId(lookalike))).rejects.toThrow(NotFoundError);
    await expect(daemon.getTask(minted!.id.toLowerCase())).rejects.toThrow(NotFoundError);
    await daemon.stop();
    expect(indexedFlags(dir.path).get(lookalike)).toBe(1);
  });

  test("a batch naming many stored tasks finds each as a single enqueue would: minted, producer and lookalike ids", async () => {
    await using dir = await tempDir();
    const daemon = await startDaemon(dir.path);
    const minted = (await daemon.enqueue("q", [cmd(), cmd(), cmd()])).map((outcome) => outcome.id);
    // A producer id shaped like the first minted one (same seq digits), and plain producer ids.
    const lookalike = sameSeqOtherId(minted[0]!);
    const named = ["order-1", "order-2", lookalike];
    await daemon.enqueue("q", named.map((id) => cmd({ id })));
    await completeAll(daemon);
    const unknown = ["order-3", sameSeqOtherId(lookalike), "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"];
    const ids = [...minted, ...named, ...unknown];
    const outcomes = await daemon.enqueue("q", ids.map((id) => cmd({ id, ifExists: "return" })));
    expect(outcomes.map((outcome) => [outcome.id, outcome.created, outcome.state])).toEqual([
      ...[...minted, ...named].map((id) => [id, false, "completed"]),
      ...unknown.map((id) => [id, true, "pending"]),
    ]);
    await daemon.stop();

    // The store's read of many ids is its read of each.
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    try {
      const asked = [...ids, "nowhere", minted[1]!.toLowerCase()];
      const many = store.readTasks(asked);
      for (const id of asked) expect(many.get(id), id).toEqual(store.readTask(id));
      expect([...many.keys()].sort()).toEqual([...ids].sort());
      expect(store.readTasks([lookalike]).get(lookalike)).toMatchObject({ id: lookalike, state: "completed" });
    } finally {
      await store.close();
    }
  });

  test("a producer that names a minted id names that task: live, final, and replaced by a new run", async () => {
    await using dir = await tempDir();
    const daemon = await startDaemon(dir.path);
    const [minted] = await daemon.enqueue("q", [cmd()]);
    const id = minted!.id;
    expect((await daemon.enqueue("q", [cmd({ id })]))[0]).toMatchObject({ id, created: false, state: "pending" });
    await completeAll(daemon);
    await expect(daemon.enqueue("q", [cmd({ id })])).rejects.toThrow(/already ended completed/);
    const [rerun] = await daemon.enqueue("q", [cmd({ id, ifExists: "new", inputJson: '{"n":3}' })]);
    expect(rerun).toMatchObject({ id, created: true, state: "pending" });
    // The new run has a seq of its own; its id no longer carries it, so the index finds it.
    expect((await daemon.getTask(id)).record).toMatchObject({ state: "pending", inputJson: '{"n":3}' });
    await completeAll(daemon);
    expect((await daemon.getTask(id)).record).toMatchObject({ state: "completed", inputJson: '{"n":3}' });
    await daemon.stop();
    expect(indexedFlags(dir.path)).toEqual(new Map([[id, 1]]));
  });

  test("a stale seq in a write finds the row by its id: minted and producer ids alike", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const daemon = await Daemon.start({ store, clock: new FakeClock(), log: silentLogger, naming: WORKFLOW_NAMING });
    const [minted] = await daemon.enqueue("q", [cmd()]);
    await daemon.stop();
    const reopened = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const named = aTaskRecord({ id: "order-9", seq: 500 });
    await reopened.commit([{ op: "tasks.insert", task: named }]);
    for (const task of [reopened.readTask(minted!.id)!, named]) {
      const stale: TaskRecord = { ...task, seq: task.seq + 1_000 };
      await reopened.commit([{ op: "tasks.markDispatched", id: task.id, seq: stale.seq, attempt: 1, leaseToken: "L", leaseDeadline: 9_000, worker: "w", startedAt: 1_500 }]);
      expect(reopened.readTask(task.id)).toMatchObject({ state: "running", leaseToken: "L" });
      await reopened.commit([{ op: "tasks.saveState", task: { ...stale, state: "completed", finishedAt: 2_000, resultJson: '"x"' } }]);
      expect(reopened.readTask(task.id)).toMatchObject({ seq: task.seq, state: "completed", resultJson: '"x"' });
      expect(reopened.readInput(task.id, stale.seq)).toBe(task.inputJson ?? reopened.readInput(task.id, task.seq));
    }
    expect(reopened.finalCountsOf("q")).toEqual([{ queue: "q", state: "completed", count: 2 }]);
    await reopened.close();
  });

  test("a database from before ids carried seqs keeps every id: old tasks are found, run and reused; new ones are minted", async () => {
    await using dir = await tempDir();
    // Ids as the daemon minted them then: the time, then 16 random digits.
    const oldIds = ["01KAYZ3Q0S7D2M9XQ4H8B6WCNE", "01KAYZ3Q0SVJ5T1R0K3GZP8YAF", "01KAYZ3Q0T4N6B8C2D0E1F3G5H"];
    const old = oldIds.map((id, i) => aTaskRecord({ id, queue: "q", type: "t", inputJson: `{"old":${i}}` }));
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit(old.map((task, i) => ({ op: "tasks.insert", task: i === 0 ? { ...task, state: "completed", finishedAt: Date.UTC(2030, 0, 1), resultJson: '"before"' } : task })));
    await store.close();
    const raw = new Database(join(dir.path, "tqd.db"));
    tasksTableBefore0008(raw);
    raw.close();

    const daemon = await startDaemon(dir.path);
    expect((await daemon.getTask(oldIds[0]!)).record).toMatchObject({ state: "completed", resultJson: '"before"' });
    expect((await daemon.getTask(oldIds[1]!)).record).toMatchObject({ state: "pending", inputJson: '{"old":1}' });
    const [fresh] = await daemon.enqueue("q", [cmd()]);
    expect(seqInTaskId(fresh!.id)).toBeGreaterThan(Math.max(...old.map((task) => task.seq)));
    expect((await daemon.enqueue("q", [cmd({ id: oldIds[2]! })]))[0]).toMatchObject({ created: false, state: "pending" });
    await completeAll(daemon);
    for (const id of [oldIds[1]!, oldIds[2]!, fresh!.id]) expect((await daemon.getTask(id)).record.state).toBe("completed");
    await expect(daemon.enqueue("q", [cmd({ id: oldIds[0]! })])).rejects.toThrow(/already ended completed/);
    await daemon.stop();

    const check = new Database(join(dir.path, "tqd.db"), { readonly: true });
    const indexes = (check.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
    check.close();
    expect(indexes).toEqual(["tasks_by_indexed_id", "tasks_dead", "tasks_finished", "tasks_live_v3"]);
    expect(indexedFlags(dir.path)).toEqual(new Map([...oldIds.map((id) => [id, 1] as const), [fresh!.id, null]]));
  });

  test("two rows cannot share an indexed id, even when a write gets past the planner", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    await store.commit([{ op: "tasks.insert", task: aTaskRecord({ id: "dup" }) }]);
    await expect(store.commit([{ op: "tasks.insert", task: aTaskRecord({ id: "dup" }) }])).rejects.toThrow(/UNIQUE/);
    expect(store.readTask("dup")).toBeDefined();
    await store.close();
  });
});
