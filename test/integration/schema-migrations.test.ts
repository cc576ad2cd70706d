/** Schema migrations on a real SQLite file: all pending ones in one transaction, all or nothing. */
import { Kysely, sql, type Migration } from "kysely";
import { describe, expect, test } from "vitest";
import { openSqliteStore } from "../../lib/store/index.ts";
import { MIGRATIONS, migrateToLatest, SqliteDialectWithTransactionalDdl, type DatabaseSchema } from "../../lib/store/schema.ts";
import { BASELINE_MIGRATIONS, createFromBaseline, schemaStateOf } from "../../lib/store/schema-baseline.ts";
import { openSqlite, type SqliteConnection } from "../../lib/store/sqlite.ts";
import { tempDir } from "../support/temp-dir.ts";

const createTable = (name: string): Migration => ({ up: async (db) => void (await sql`CREATE TABLE ${sql.raw(name)} (x INTEGER)`.execute(db)) });
const failing: Migration = {
  up: async (db) => {
    await sql`CREATE TABLE half_done (x INTEGER)`.execute(db);
    throw new Error("the second statement failed");
  },
};

/** Read through the connection that holds the database (it is locked exclusively). */
function tableNames(connection: SqliteConnection): string[] {
  return (connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
}

describe("schema migrations", () => {
  test("a migration that fails leaves the schema as it was, the migrations before it in the same run included", async () => {
    await using dir = await tempDir();
    const connection = openSqlite(dir.path, process.pid);
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialectWithTransactionalDdl({ database: connection.kyselyDatabase() }) });
    try {
      expect(await migrateToLatest(db, { "0001_a": createTable("a") })).toBe("new");
      await expect(migrateToLatest(db, { "0001_a": createTable("a"), "0002_b": createTable("b"), "0003_c": failing })).rejects.toThrow(
        /schema migration 0003_c failed: .*the second statement failed/,
      );
      const tables = tableNames(connection);
      expect(tables).toContain("a");
      expect(tables).not.toContain("b");
      expect(tables).not.toContain("half_done");
      const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
      expect(applied.rows.map((row) => row.name)).toEqual(["0001_a"]);

      // Fixed, the same run applies both, and says the database was upgraded.
      expect(await migrateToLatest(db, { "0001_a": createTable("a"), "0002_b": createTable("b"), "0003_c": createTable("c") })).toBe("upgraded");
      expect(tableNames(connection)).toEqual(expect.arrayContaining(["a", "b", "c"]));
    } finally {
      await db.destroy();
      connection.close();
    }
  });

  test("a new data directory gets the whole schema, and opens again with nothing to apply", async () => {
    await using dir = await tempDir();
    const first = await openSqliteStore({ dataDir: dir.path, pid: process.pid });
    await first.close();
    const connection = openSqlite(dir.path, process.pid);
    expect(tableNames(connection)).toEqual(expect.arrayContaining(["tasks", "attempts", "queues", "kysely_migration"]));
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialectWithTransactionalDdl({ database: connection.kyselyDatabase() }) });
    try {
      expect(await migrateToLatest(db)).toBe("current");
    } finally {
      await db.destroy();
      connection.close();
    }
  });

  test("a new data directory's baseline script gives what kysely's migrations give, object by object", async () => {
    await using baselineDir = await tempDir();
    await using migratedDir = await tempDir();
    const store = await openSqliteStore({ dataDir: baselineDir.path, pid: process.pid });
    await store.close();
    const viaMigrator = openSqlite(migratedDir.path, process.pid);
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialectWithTransactionalDdl({ database: viaMigrator.kyselyDatabase() }) });
    try {
      expect(await migrateToLatest(db)).toBe("new");
    } finally {
      await db.destroy();
    }
    const viaBaseline = openSqlite(baselineDir.path, process.pid);
    try {
      const schemaOf = (connection: SqliteConnection) => ({
        objects: connection.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all(),
        applied: connection.prepare("SELECT name FROM kysely_migration ORDER BY name").all(),
        lock: connection.prepare("SELECT * FROM kysely_migration_lock").all(),
      });
      const expected = schemaOf(viaMigrator);
      expect(expected.objects.length).toBeGreaterThan(20);
      expect(schemaOf(viaBaseline)).toEqual(expected);
      expect(schemaStateOf(viaBaseline, Object.keys(MIGRATIONS))).toBe("current");
      // The baseline stands for the first migrations, in their order.
      expect(Object.keys(MIGRATIONS).slice(0, BASELINE_MIGRATIONS.length)).toEqual(BASELINE_MIGRATIONS);
    } finally {
      viaBaseline.close();
      viaMigrator.close();
    }
  });

  test("on the baseline, kysely applies a later migration; a database with a migration this binary lacks is refused", async () => {
    await using dir = await tempDir();
    const connection = openSqlite(dir.path, process.pid);
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialectWithTransactionalDdl({ database: connection.kyselyDatabase() }) });
    const later = { ...MIGRATIONS, "9999_later": createTable("later") };
    try {
      expect(schemaStateOf(connection, Object.keys(later))).toBe("empty");
      createFromBaseline(connection, new Date());
      expect(schemaStateOf(connection, Object.keys(later))).toBe("other");
      expect(await migrateToLatest(db, later)).toBe("upgraded");
      expect(tableNames(connection)).toContain("later");
      expect(schemaStateOf(connection, Object.keys(later))).toBe("current");
      // To this binary, which lacks 9999_later, the database is neither empty nor current.
      expect(schemaStateOf(connection, Object.keys(MIGRATIONS))).toBe("other");
    } finally {
      await db.destroy();
      connection.close();
    }
    await expect(openSqliteStore({ dataDir: dir.path, pid: process.pid })).rejects.toThrow(/9999_later/);
  });
});
