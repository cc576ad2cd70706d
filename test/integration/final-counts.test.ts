import { Database } from "bun:sqlite";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { TaskRecord, TaskState } from "../../lib/core/index.ts";
import { openSqliteStore, type FinalCountRow, type StoreOp } from "../../lib/store/index.ts";
import { tasksTableBefore0008 } from "../support/old-schemas.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { aTaskRecord } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

const QUEUES = ["a", "b", "b@host:h1"];
const LIVE: TaskState[] = ["scheduled", "pending", "running"];
const FINAL: TaskState[] = ["completed", "failed", "timed_out", "canceled"];

/** What the test believes each row holds: the oracle the store's counts are checked against. */
type ModelRow = { task: TaskRecord; final: boolean };

function countsOf(model: Map<string, ModelRow>, prefix = ""): FinalCountRow[] {
  const counts = new Map<string, FinalCountRow>();
  for (const { task, final } of model.values()) {
    if (!final || !task.queue.startsWith(prefix)) continue;
    const key = `${task.queue}\u0000${task.state}`;
    const row = counts.get(key) ?? { queue: task.queue, state: task.state as FinalCountRow["state"], count: 0 };
    row.count++;
    counts.set(key, row);
  }
  return [...counts.values()].sort((x, y) => (x.queue < y.queue ? -1 : x.queue > y.queue ? 1 : x.state < y.state ? -1 : x.state > y.state ? 1 : 0));
}

function recountInDatabase(dataDir: string): { kept: unknown[]; recounted: unknown[] } {
  const raw = new Database(join(dataDir, "tqd.db"), { readonly: true });
  try {
    return {
      kept: raw.query("SELECT queue, state, count FROM queue_final_counts ORDER BY queue, state").all(),
      recounted: raw.query("SELECT queue, state, count(*) AS count FROM tasks WHERE finished_at IS NOT NULL GROUP BY queue, state ORDER BY queue, state").all(),
    };
  } finally {
    raw.close();
  }
}

describe("final counts", () => {
  test("follow every insert, save, dispatch record and delete, including saves by id, failed writes and a reopen", async () => {
    await using dir = await tempDir();
    const random = seededRandom(6);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const model = new Map<string, ModelRow>();
    let store = await openSqliteStore({ dataDir: dir.path, pid: 1 });

    for (let round = 0; round < 60; round++) {
      const ops: StoreOp[] = [];
      for (let n = 0; n < 1 + Math.floor(random() * 12); n++) {
        const known = [...model.values()];
        const roll = random();
        if (known.length === 0 || roll < 0.3) {
          // Mostly live inserts; now and then a row inserted final.
          const final = random() < 0.1;
          const task = aTaskRecord({ queue: pick(QUEUES), state: final ? pick(FINAL) : "pending", finishedAt: final ? 1_000 : undefined });
          ops.push({ op: "tasks.insert", task });
          model.set(task.id, { task, final });
        } else if (roll < 0.75) {
          // A save into any state, on any queue (a fallback moves a task), found by seq or,
          // with a seq of no row, by id; final rows saved back to live are dead-letter requeues.
          const { task } = pick(known);
          const final = random() < 0.6;
          const saved: TaskRecord = { ...task, queue: pick(QUEUES), state: final ? pick(FINAL) : pick(LIVE), finishedAt: final ? 2_000 + round : undefined };
          ops.push({ op: "tasks.saveState", task: random() < 0.2 ? { ...saved, seq: 900_000 + round } : saved });
          model.set(task.id, { task: saved, final });
        } else if (roll < 0.85) {
          const row = pick(known);
          ops.push({ op: "tasks.markDispatched", id: row.task.id, seq: row.task.seq, attempt: 1, leaseToken: "L", leaseDeadline: 9_000, worker: "w", startedAt: 1_500 });
          // A dispatch record never applies to a final row.
          if (!row.final) model.set(row.task.id, { task: { ...row.task, state: "running" }, final: false });
        } else {
          const { task } = pick(known);
          ops.push({ op: "tasks.delete", id: task.id, seq: task.seq });
          model.delete(task.id);
        }
      }
      // A submission that fails (an id already taken) sharing the group commit: its counts
      // must not be kept, and the others' must.
      const taken = [...model.values()][0]?.task;
      const failing = taken && random() < 0.3 ? store.commit([{ op: "tasks.saveState", task: { ...taken, state: "completed", finishedAt: 5 } }, { op: "tasks.insert", task: { ...aTaskRecord(), id: taken.id } }]) : undefined;
      const results = await Promise.allSettled([store.commit(ops), ...(failing ? [failing] : [])]);
      expect(results.map((result) => result.status)).toEqual(failing ? ["fulfilled", "rejected"] : ["fulfilled"]);
      expect(store.finalCounts("")).toEqual(countsOf(model));
      expect(store.finalCountsOf("b")).toEqual(countsOf(model).filter((row) => row.queue === "b"));
      expect(store.finalCounts("b")).toEqual(countsOf(model, "b"));
      if (round === 30) {
        await store.close();
        store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
        expect(store.finalCounts("")).toEqual(countsOf(model));
      }
    }
    expect(countsOf(model).length).toBeGreaterThan(5);
    await store.close();
    // The kept counts equal a count over the table, and no queue keeps a row of zero.
    const { kept, recounted } = recountInDatabase(dir.path);
    expect(kept).toEqual(recounted);
  });

  test("a database from before the counts were kept gets them from its history at the first start", async () => {
    await using dir = await tempDir();
    const store = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    const tasks = [aTaskRecord({ queue: "a" }), aTaskRecord({ queue: "a" }), aTaskRecord({ queue: "b" }), aTaskRecord({ queue: "b" })];
    await store.commit(tasks.map((task) => ({ op: "tasks.insert", task })));
    await store.commit([
      { op: "tasks.saveState", task: { ...tasks[0]!, state: "completed", finishedAt: 10 } },
      { op: "tasks.saveState", task: { ...tasks[1]!, state: "failed", finishedAt: 11 } },
      { op: "tasks.saveState", task: { ...tasks[2]!, state: "completed", finishedAt: 12 } },
    ]);
    await store.close();
    // Back to the schema of migration 0006: no counts table, the counting index in place.
    const raw = new Database(join(dir.path, "tqd.db"));
    tasksTableBefore0008(raw);
    raw.exec("DROP TABLE queue_final_counts");
    raw.exec("DELETE FROM kysely_migration WHERE name = '0007_final_counts'");
    raw.exec("CREATE INDEX tasks_final_by_queue ON tasks (queue, state) WHERE finished_at IS NOT NULL");
    raw.close();

    const upgraded = await openSqliteStore({ dataDir: dir.path, pid: 1 });
    expect(upgraded.finalCounts("")).toEqual([
      { queue: "a", state: "completed", count: 1 },
      { queue: "a", state: "failed", count: 1 },
      { queue: "b", state: "completed", count: 1 },
    ]);
    await upgraded.commit([{ op: "tasks.saveState", task: { ...tasks[3]!, state: "completed", finishedAt: 13 } }]);
    expect(upgraded.finalCountsOf("b")).toEqual([{ queue: "b", state: "completed", count: 2 }]);
    await upgraded.close();
    const check = new Database(join(dir.path, "tqd.db"), { readonly: true });
    const indexes = check.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'").all() as { name: string }[];
    check.close();
    expect(indexes.map((index) => index.name)).not.toContain("tasks_final_by_queue");
  });
});
