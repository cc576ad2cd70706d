/**
 * The database schema, as in-code kysely migrations (the binary ships no migration folder).
 * Append new migrations; never edit one that has shipped.
 */
import { Kysely, Migrator, sql, type Migration, type MigrationProvider } from "kysely";

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
}

export interface DatabaseSchema {
  tasks: TasksTable;
}

const MIGRATIONS: Record<string, Migration> = {
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
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date; throws with the failing migration's error. */
export async function migrateToLatest(db: Kysely<DatabaseSchema>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`schema migration ${failed} failed: ${String(error)}`);
  }
}
