/**
 * Databases as earlier versions of tqd left them, rebuilt from a current one with raw SQL, for
 * the tests of the migrations that upgrade them.
 */
import type { Database } from "bun:sqlite";

const COLUMNS =
  "seq, id, queue, type, state, attempt, input, result, error, heartbeat, start_to_close_ms, lease_token, lease_deadline, worker, created_at, started_at, finished_at, priority, budget_start, options, run_at, ready_at, close_deadline, cancel_requested, fairness_key, headers, routed_from, route_rule_id, fallback_queue, fallback_at";

/**
 * The `tasks` table before migration 0008: every id in the column's UNIQUE index, no
 * `id_indexed`. The DDL is what migrations 0001-0006 left in sqlite_master.
 */
export function tasksTableBefore0008(db: Database): void {
  db.exec(`CREATE TABLE tasks_old ("seq" integer primary key, "id" text not null unique, "queue" text not null, "type" text not null, "state" text not null, "attempt" integer not null, "input" text, "result" text, "error" text, "heartbeat" text, "start_to_close_ms" integer not null, "lease_token" text, "lease_deadline" integer, "worker" text, "created_at" integer not null, "started_at" integer, "finished_at" integer, "priority" integer default 3 not null, "budget_start" integer default 0 not null, "options" text, "run_at" integer, "ready_at" integer, "close_deadline" integer, "cancel_requested" integer default 0 not null, "fairness_key" text, "headers" text, "routed_from" text, "route_rule_id" text, "fallback_queue" text, "fallback_at" integer)`);
  db.exec(`INSERT INTO tasks_old (${COLUMNS}) SELECT ${COLUMNS} FROM tasks`);
  db.exec("DROP TABLE tasks");
  db.exec("ALTER TABLE tasks_old RENAME TO tasks");
  db.exec(`CREATE INDEX "tasks_finished" on "tasks" ("finished_at") where "finished_at" is not null`);
  db.exec(`CREATE INDEX "tasks_dead" on "tasks" ("queue", "finished_at") where "state" in ('failed', 'timed_out')`);
  db.exec(`CREATE INDEX "tasks_live_v3" on "tasks" ("seq") where "finished_at" is null`);
  db.exec("DELETE FROM kysely_migration WHERE name = '0008_ids_carry_seq'");
}
