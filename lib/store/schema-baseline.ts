/**
 * The schema of migrations 0001-0008 in one script, for a new data directory, and the check
 * that lets a current database skip kysely's migrator.
 *
 * Why: a new database went through kysely's migrator, 8 migrations and about 40 statements
 * built, compiled and run by code the daemon's first start runs cold: 45 ms of an idle start to
 * ready of about 165 ms (the target is 150), where this script takes 4-5 ms. A current database
 * still asked the migrator (its tables, its lock, its list) for about 9 ms; one read of the
 * applied names now says so. Anything else (an older schema, or names this binary does not
 * know) still goes through kysely, which applies or refuses as before.
 *
 * The script is the text SQLite itself keeps in `sqlite_master` after those migrations, in
 * their order, with kysely's bookkeeping. `test/integration/schema-migrations.test.ts` holds the
 * two paths to the same `sqlite_master` and the same applied names, so the script cannot drift
 * from the migrations; a migration after 0008 is applied by kysely on top of it. Never edit
 * this script for a later change: append a migration (schema.ts).
 */
import type { SqliteConnection } from "./sqlite.ts";

/** The migrations the script stands for, in order. */
export const BASELINE_MIGRATIONS: readonly string[] = [
  "0001_tasks",
  "0002_lifecycle",
  "0003_queues",
  "0004_routing",
  "0005_workflows",
  "0006_live_by_finished_at",
  "0007_final_counts",
  "0008_ids_carry_seq",
];

const BASELINE_SQL = `
CREATE TABLE "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null);
CREATE TABLE "kysely_migration_lock" ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null);
INSERT INTO "kysely_migration_lock" ("id", "is_locked") VALUES ('migration_lock', 0);
CREATE TABLE "attempts" ("task_id" text not null, "attempt" integer not null, "worker" text not null, "started_at" integer not null, "ended_at" integer not null, "outcome" text not null, "error" text, constraint "attempts_pk" primary key ("task_id", "attempt")) without rowid;
CREATE TABLE "queues" ("name" text primary key, "paused" integer default 0 not null, "rate" real, "burst" integer, "fairness" text, "last_polled_at" integer);
CREATE TABLE "routes" ("queue" text not null, "version" integer not null, "rules" text not null, "change" text not null, "created_at" integer not null, constraint "routes_pk" primary key ("queue", "version"));
CREATE TABLE "workflows" ("id" text primary key, "type" text not null, "queue" text not null, "state" text not null, "input" text, "result" text, "error" text, "created_at" integer not null, "closed_at" integer, "last_event_id" integer not null, "seen_up_to" integer not null, "random_seed" integer not null, "sticky_timeout_ms" integer not null, "sticky_worker" text, "task_id" text, "task_failures" integer default 0 not null, "last_task_error" text, "blocked_on" text);
CREATE INDEX "workflows_by_queue" on "workflows" ("queue", "created_at");
CREATE INDEX "workflows_by_state" on "workflows" ("state", "created_at");
CREATE INDEX "workflows_closed" on "workflows" ("closed_at") where "closed_at" is not null;
CREATE TABLE workflow_events (
        workflow_id TEXT NOT NULL, event_id INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (workflow_id, event_id)) WITHOUT ROWID;
CREATE TABLE "workflow_links" ("task_id" text primary key, "workflow_id" text not null, "kind" text not null, "seq" integer not null, "session" integer, "type" text not null);
CREATE INDEX "workflow_links_by_workflow" on "workflow_links" ("workflow_id");
CREATE TABLE workflow_sessions (
        workflow_id TEXT NOT NULL, seq INTEGER NOT NULL, queue TEXT NOT NULL, task_id TEXT NOT NULL, state TEXT NOT NULL,
        worker TEXT, worker_queue TEXT, PRIMARY KEY (workflow_id, seq)) WITHOUT ROWID;
CREATE TABLE workflow_timers (
        workflow_id TEXT NOT NULL, seq INTEGER NOT NULL, fire_at INTEGER NOT NULL, PRIMARY KEY (workflow_id, seq)) WITHOUT ROWID;
CREATE TABLE queue_final_counts (
        queue TEXT NOT NULL, state TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (queue, state)) WITHOUT ROWID;
CREATE TABLE "tasks" (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, queue TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
        attempt INTEGER NOT NULL, input TEXT, result TEXT, error TEXT, heartbeat TEXT, start_to_close_ms INTEGER NOT NULL,
        lease_token TEXT, lease_deadline INTEGER, worker TEXT, created_at INTEGER NOT NULL, started_at INTEGER,
        finished_at INTEGER, priority INTEGER NOT NULL DEFAULT 3, budget_start INTEGER NOT NULL DEFAULT 0, options TEXT,
        run_at INTEGER, ready_at INTEGER, close_deadline INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0,
        fairness_key TEXT, headers TEXT, routed_from TEXT, route_rule_id TEXT, fallback_queue TEXT, fallback_at INTEGER,
        id_indexed INTEGER);
CREATE UNIQUE INDEX tasks_by_indexed_id ON tasks (id) WHERE id_indexed = 1;
CREATE INDEX tasks_live_v3 ON tasks (seq) WHERE finished_at IS NULL;
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tasks_dead ON tasks (queue, finished_at) WHERE state IN ('failed', 'timed_out');
`;

/**
 * What the database holds: nothing yet (a new file), exactly the migrations in `names` (its
 * schema is current), or anything else (kysely's migrator decides).
 */
export function schemaStateOf(connection: SqliteConnection, names: readonly string[]): "empty" | "current" | "other" {
  const objects = connection.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
  if (objects.n === 0) return "empty";
  const hasTable = connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'").get();
  if (!hasTable) return "other";
  const applied = (connection.prepare("SELECT name FROM kysely_migration ORDER BY name").all() as { name: string }[]).map((row) => row.name);
  const expected = [...names].sort();
  return applied.length === expected.length && applied.every((name, i) => name === expected[i]) ? "current" : "other";
}

/** Writes the baseline schema into an empty database, in one transaction, and records its migrations as applied at `now`. */
export function createFromBaseline(connection: SqliteConnection, now: Date): void {
  connection.transaction(() => {
    connection.exec(BASELINE_SQL);
    const record = connection.prepare('INSERT INTO "kysely_migration" ("name", "timestamp") VALUES ($name, $timestamp)');
    for (const name of BASELINE_MIGRATIONS) record.run({ name, timestamp: now.toISOString() });
  });
}
