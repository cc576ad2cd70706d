/**
 * The database schema, as in-code kysely migrations (the binary ships no migration folder).
 * Append new migrations; never edit one that has shipped.
 */
import { Kysely, Migrator, SqliteAdapter, SqliteDialect, sql, type ColumnDefinitionBuilder, type DialectAdapter, type Migration } from "kysely";

/** Row shape of `tasks` for kysely queries. Times are epoch ms; JSON columns hold raw text. */
export interface TasksTable {
  seq: number;
  id: string;
  queue: string;
  type: string;
  state: string;
  attempt: number;
  input: string | null;
  result: string | null;
  error: string | null;
  heartbeat: string | null;
  start_to_close_ms: number;
  lease_token: string | null;
  lease_deadline: number | null;
  worker: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  priority: number;
  budget_start: number;
  /** TaskOptions as JSON (timeouts and retry policy); immutable after insert. */
  options: string | null;
  run_at: number | null;
  ready_at: number | null;
  close_deadline: number | null;
  cancel_requested: number;
  fairness_key: string | null;
  /** Headers as JSON. */
  headers: string | null;
  routed_from: string | null;
  route_rule_id: string | null;
  fallback_queue: string | null;
  fallback_at: number | null;
  /** 1 when the id does not carry the row's seq (a producer chose it, or it predates 0008), so the index finds it. */
  id_indexed: number | null;
}

export interface DatabaseSchema {
  tasks: TasksTable;
  attempts: AttemptsTable;
  queues: QueuesTable;
  routes: RoutesTable;
  workflows: WorkflowsTable;
  workflow_events: WorkflowEventsTable;
  workflow_links: WorkflowLinksTable;
  workflow_sessions: WorkflowSessionsTable;
  workflow_timers: WorkflowTimersTable;
  queue_final_counts: QueueFinalCountsTable;
}

/** How many tasks of a queue ended in each final state (see final-counts.ts). */
export interface QueueFinalCountsTable {
  queue: string;
  state: string;
  count: number;
}

/** One workflow execution (see core/workflow-records.ts for the meaning of each column). */
export interface WorkflowsTable {
  id: string;
  type: string;
  queue: string;
  state: string;
  input: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  closed_at: number | null;
  last_event_id: number;
  seen_up_to: number;
  random_seed: number;
  sticky_timeout_ms: number;
  sticky_worker: string | null;
  task_id: string | null;
  task_failures: number;
  last_task_error: string | null;
  blocked_on: string | null;
}

/** The append-only history: one row per event, the event's own fields as JSON in `body`. */
export interface WorkflowEventsTable {
  workflow_id: string;
  event_id: number;
  at: number;
  kind: string;
  body: string;
}

/** Live tasks that serve a workflow; deleted when the task's end is recorded as an event. */
export interface WorkflowLinksTable {
  task_id: string;
  workflow_id: string;
  kind: string;
  seq: number;
  session: number | null;
  type: string;
}

export interface WorkflowSessionsTable {
  workflow_id: string;
  seq: number;
  queue: string;
  task_id: string;
  state: string;
  worker: string | null;
  worker_queue: string | null;
}

export interface WorkflowTimersTable {
  workflow_id: string;
  seq: number;
  fire_at: number;
}

/** Every version of every queue's traffic-routing rules; the highest version is in force. */
export interface RoutesTable {
  queue: string;
  version: number;
  /** The rules as JSON. */
  rules: string;
  /** What changed, for `tqd route history`. */
  change: string;
  created_at: number;
}

/** Settings and activity of queues that have any (most queues never get a row). */
export interface QueuesTable {
  name: string;
  paused: number;
  /** Admin rate limit, tasks per second. */
  rate: number | null;
  burst: number | null;
  /** `{key: {weight, ratePerSecond?}}` as JSON. */
  fairness: string | null;
  /** Epoch ms of the last poll, written at most every few minutes (for the typo guard). */
  last_polled_at: number | null;
}

/** One ended attempt of a task (the running attempt lives on the task row). */
export interface AttemptsTable {
  task_id: string;
  attempt: number;
  worker: string;
  started_at: number;
  ended_at: number;
  outcome: string;
  error: string | null;
}

/** Every migration, by name in the order they apply (kysely sorts by name). */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_tasks": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("tasks")
        // seq is the rowid: inserts append, and boot loads live tasks in enqueue order.
        .addColumn("seq", "integer", (col) => col.primaryKey())
        .addColumn("id", "text", (col) => col.notNull().unique())
        .addColumn("queue", "text", (col) => col.notNull())
        .addColumn("type", "text", (col) => col.notNull())
        .addColumn("state", "text", (col) => col.notNull())
        .addColumn("attempt", "integer", (col) => col.notNull())
        .addColumn("input", "text")
        .addColumn("result", "text")
        .addColumn("error", "text")
        .addColumn("heartbeat", "text")
        .addColumn("start_to_close_ms", "integer", (col) => col.notNull())
        .addColumn("lease_token", "text")
        .addColumn("lease_deadline", "integer")
        .addColumn("worker", "text")
        .addColumn("created_at", "integer", (col) => col.notNull())
        .addColumn("started_at", "integer")
        .addColumn("finished_at", "integer")
        .execute();
      // Boot reads only live tasks; a partial index keeps that independent of history size.
      await db.schema
        .createIndex("tasks_live")
        .on("tasks")
        .column("seq")
        .where(sql.ref("state"), "in", ["pending", "running"])
        .execute();
    },
  },
  "0002_lifecycle": {
    async up(db: Kysely<unknown>) {
      const columns: [string, "integer" | "text", ((col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder)?][] = [
        ["priority", "integer", (col) => col.notNull().defaultTo(3)],
        ["budget_start", "integer", (col) => col.notNull().defaultTo(0)],
        ["options", "text"],
        ["run_at", "integer"],
        ["ready_at", "integer"],
        ["close_deadline", "integer"],
        ["cancel_requested", "integer", (col) => col.notNull().defaultTo(0)],
      ];
      for (const [name, type, build] of columns) {
        await db.schema.alterTable("tasks").addColumn(name, type, build ?? ((col) => col)).execute();
      }
      await db.schema.dropIndex("tasks_live").execute();
      await db.schema
        .createIndex("tasks_live_v2")
        .on("tasks")
        .column("seq")
        .where(sql.ref("state"), "in", ["scheduled", "pending", "running"])
        .execute();
      // Retention deletes by age; the dead-letter views list failed tasks of one queue by age.
      await db.schema.createIndex("tasks_finished").on("tasks").column("finished_at").where(sql.ref("finished_at"), "is not", null).execute();
      await db.schema
        .createIndex("tasks_dead")
        .on("tasks")
        .columns(["queue", "finished_at"])
        .where(sql.ref("state"), "in", ["failed", "timed_out"])
        .execute();
      await db.schema
        .createTable("attempts")
        .addColumn("task_id", "text", (col) => col.notNull())
        .addColumn("attempt", "integer", (col) => col.notNull())
        .addColumn("worker", "text", (col) => col.notNull())
        .addColumn("started_at", "integer", (col) => col.notNull())
        .addColumn("ended_at", "integer", (col) => col.notNull())
        .addColumn("outcome", "text", (col) => col.notNull())
        .addColumn("error", "text")
        .addPrimaryKeyConstraint("attempts_pk", ["task_id", "attempt"])
        .modifyEnd(sql`without rowid`)
        .execute();
    },
  },
  "0003_queues": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("tasks").addColumn("fairness_key", "text").execute();
      // Final counts per queue are read from the store (memory holds only live queues).
      await db.schema
        .createIndex("tasks_final_by_queue")
        .on("tasks")
        .columns(["queue", "state"])
        .where(sql.ref("finished_at"), "is not", null)
        .execute();
      await db.schema
        .createTable("queues")
        .addColumn("name", "text", (col) => col.primaryKey())
        .addColumn("paused", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("rate", "real")
        .addColumn("burst", "integer")
        .addColumn("fairness", "text")
        .addColumn("last_polled_at", "integer")
        .execute();
    },
  },
  "0004_routing": {
    async up(db: Kysely<unknown>) {
      for (const [name, type] of [
        ["headers", "text"],
        ["routed_from", "text"],
        ["route_rule_id", "text"],
        ["fallback_queue", "text"],
        ["fallback_at", "integer"],
      ] as const) {
        await db.schema.alterTable("tasks").addColumn(name, type).execute();
      }
      await db.schema
        .createTable("routes")
        .addColumn("queue", "text", (col) => col.notNull())
        .addColumn("version", "integer", (col) => col.notNull())
        .addColumn("rules", "text", (col) => col.notNull())
        .addColumn("change", "text", (col) => col.notNull())
        .addColumn("created_at", "integer", (col) => col.notNull())
        .addPrimaryKeyConstraint("routes_pk", ["queue", "version"])
        .execute();
    },
  },
  "0005_workflows": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("workflows")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("type", "text", (col) => col.notNull())
        .addColumn("queue", "text", (col) => col.notNull())
        .addColumn("state", "text", (col) => col.notNull())
        .addColumn("input", "text")
        .addColumn("result", "text")
        .addColumn("error", "text")
        .addColumn("created_at", "integer", (col) => col.notNull())
        .addColumn("closed_at", "integer")
        .addColumn("last_event_id", "integer", (col) => col.notNull())
        .addColumn("seen_up_to", "integer", (col) => col.notNull())
        .addColumn("random_seed", "integer", (col) => col.notNull())
        .addColumn("sticky_timeout_ms", "integer", (col) => col.notNull())
        .addColumn("sticky_worker", "text")
        .addColumn("task_id", "text")
        .addColumn("task_failures", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("last_task_error", "text")
        .addColumn("blocked_on", "text")
        .execute();
      // `tqd workflow ls` filters by queue or state, newest first; boot loads the running ones.
      await db.schema.createIndex("workflows_by_queue").on("workflows").columns(["queue", "created_at"]).execute();
      await db.schema.createIndex("workflows_by_state").on("workflows").columns(["state", "created_at"]).execute();
      await db.schema.createIndex("workflows_closed").on("workflows").column("closed_at").where(sql.ref("closed_at"), "is not", null).execute();
      await sql`CREATE TABLE workflow_events (
        workflow_id TEXT NOT NULL, event_id INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (workflow_id, event_id)) WITHOUT ROWID`.execute(db);
      await db.schema
        .createTable("workflow_links")
        .addColumn("task_id", "text", (col) => col.primaryKey())
        .addColumn("workflow_id", "text", (col) => col.notNull())
        .addColumn("kind", "text", (col) => col.notNull())
        .addColumn("seq", "integer", (col) => col.notNull())
        .addColumn("session", "integer")
        .addColumn("type", "text", (col) => col.notNull())
        .execute();
      await db.schema.createIndex("workflow_links_by_workflow").on("workflow_links").column("workflow_id").execute();
      await sql`CREATE TABLE workflow_sessions (
        workflow_id TEXT NOT NULL, seq INTEGER NOT NULL, queue TEXT NOT NULL, task_id TEXT NOT NULL, state TEXT NOT NULL,
        worker TEXT, worker_queue TEXT, PRIMARY KEY (workflow_id, seq)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE workflow_timers (
        workflow_id TEXT NOT NULL, seq INTEGER NOT NULL, fire_at INTEGER NOT NULL, PRIMARY KEY (workflow_id, seq)) WITHOUT ROWID`.execute(db);
    },
  },
  "0006_live_by_finished_at": {
    async up(db: Kysely<unknown>) {
      // Boot's live-task index, keyed on what ends a task rather than on its state: a dispatch
      // (pending -> running) no longer rewrites an index entry, and the hot path writes about
      // 10 µs less per task (measured: insert 7.3 -> 5.6, dispatch 8.9 -> 4.3, completion 10.4
      // -> 6.7 µs). A task is live exactly while finished_at is NULL (final counts rely on it too).
      await db.schema.dropIndex("tasks_live_v2").execute();
      await db.schema.createIndex("tasks_live_v3").on("tasks").column("seq").where(sql.ref("finished_at"), "is", null).execute();
    },
  },
  "0007_final_counts": {
    async up(db: Kysely<unknown>) {
      // Final counts kept by the writes instead of counted over history at each read (see
      // final-counts.ts); the index that served the count goes, a completion writes one
      // index entry fewer.
      await sql`CREATE TABLE queue_final_counts (
        queue TEXT NOT NULL, state TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (queue, state)) WITHOUT ROWID`.execute(db);
      await sql`INSERT INTO queue_final_counts (queue, state, count)
        SELECT queue, state, count(*) FROM tasks WHERE finished_at IS NOT NULL GROUP BY queue, state`.execute(db);
      await db.schema.dropIndex("tasks_final_by_queue").execute();
    },
  },
  "0008_ids_carry_seq": {
    async up(db: Kysely<unknown>) {
      // A minted id carries its row's seq (lib/core/minted-task-id.ts), so only the other ids
      // need an index: an insert writes two B-trees, not three. SQLite cannot drop the UNIQUE
      // of a column, so the table is rebuilt once (every existing id is indexed, as before).
      const columns =
        "seq, id, queue, type, state, attempt, input, result, error, heartbeat, start_to_close_ms, lease_token, lease_deadline, worker, created_at, started_at, finished_at, priority, budget_start, options, run_at, ready_at, close_deadline, cancel_requested, fairness_key, headers, routed_from, route_rule_id, fallback_queue, fallback_at";
      await sql`CREATE TABLE tasks_0008 (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, queue TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
        attempt INTEGER NOT NULL, input TEXT, result TEXT, error TEXT, heartbeat TEXT, start_to_close_ms INTEGER NOT NULL,
        lease_token TEXT, lease_deadline INTEGER, worker TEXT, created_at INTEGER NOT NULL, started_at INTEGER,
        finished_at INTEGER, priority INTEGER NOT NULL DEFAULT 3, budget_start INTEGER NOT NULL DEFAULT 0, options TEXT,
        run_at INTEGER, ready_at INTEGER, close_deadline INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0,
        fairness_key TEXT, headers TEXT, routed_from TEXT, route_rule_id TEXT, fallback_queue TEXT, fallback_at INTEGER,
        id_indexed INTEGER)`.execute(db);
      await sql.raw(`INSERT INTO tasks_0008 (${columns}, id_indexed) SELECT ${columns}, 1 FROM tasks ORDER BY seq`).execute(db);
      await sql`DROP TABLE tasks`.execute(db);
      await sql`ALTER TABLE tasks_0008 RENAME TO tasks`.execute(db);
      await sql`CREATE UNIQUE INDEX tasks_by_indexed_id ON tasks (id) WHERE id_indexed = 1`.execute(db);
      await sql`CREATE INDEX tasks_live_v3 ON tasks (seq) WHERE finished_at IS NULL`.execute(db);
      await sql`CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL`.execute(db);
      await sql`CREATE INDEX tasks_dead ON tasks (queue, finished_at) WHERE state IN ('failed', 'timed_out')`.execute(db);
    },
  },
};

/**
 * kysely's SQLite dialect, telling its migrator that SQLite's DDL is transactional (kysely's own
 * adapter says it is not, so its migrator committed every statement on its own). It is, apart
 * from a few PRAGMAs that no migration here uses. So every pending migration runs in one
 * transaction: an upgrade stopped by a crash or a failing statement leaves the schema as it
 * was, and a new database is one commit, not about 60 `fsync`s (25-110 ms of a first start).
 */
export class SqliteDialectWithTransactionalDdl extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Brings the schema up to date, all pending migrations in one transaction; throws with the
 * failing migration's error, the schema unchanged. Says whether the database was new, upgraded
 * from an earlier schema, or already current. `migrations` is for tests.
 */
export async function migrateToLatest(db: Kysely<DatabaseSchema>, migrations: Record<string, Migration> = MIGRATIONS): Promise<"new" | "upgraded" | "current"> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`schema migration ${failed} failed: ${String(error)}`);
  }
  const applied = results?.length ?? 0;
  return applied === 0 ? "current" : applied === Object.keys(migrations).length ? "new" : "upgraded";
}
