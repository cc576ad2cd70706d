/**
 * The only file that touches `bun:sqlite` (and the data directory on disk). It opens the
 * database with the settings durability depends on, takes the data-directory lock, and adapts
 * the connection to kysely's SqliteDatabase interface.
 *
 * Durability: WAL mode with synchronous=FULL, so every COMMIT fsyncs the WAL before it returns;
 * callers acknowledge only after COMMIT (group commit batches many requests into one).
 * Locking: locking_mode=EXCLUSIVE holds the file lock for the life of the process (released by
 * the OS even on kill -9), so a second daemon on the same directory fails at once.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SqliteDatabase } from "kysely";

export const DATABASE_FILE = "tqd.db";
const PID_FILE = "tqd.pid";

/** The data directory is held by another process. */
export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
}

export type SqlValue = string | number | bigint | null | Uint8Array;
export type PreparedStatement = Statement;

/** An open, locked database: raw prepared statements for the hot path, kysely for the rest. */
export interface SqliteConnection {
  prepare(sql: string): PreparedStatement;
  /** Runs a script of statements, in order (the baseline schema); nothing to read back. */
  exec(sql: string): void;
  /** Runs `fn` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on error. */
  transaction(fn: () => void): void;
  kyselyDatabase(): SqliteDatabase;
  close(): void;
}

/** Opens (creating if needed) the database in `dataDir` and locks the directory. */
export function openSqlite(dataDir: string, pid: number): SqliteConnection {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE), { create: true, strict: true });
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    // Takes the exclusive lock now rather than at the first write.
    db.exec("BEGIN IMMEDIATE; COMMIT");
  } catch (error) {
    db.close();
    if (/locked|busy/i.test(String(error))) {
      throw new DataDirLockedError(`data directory ${dataDir} is in use by another tqd${describeHolder(dataDir)}`);
    }
    throw error;
  }
  writeFileSync(join(dataDir, PID_FILE), `${pid}\n`);
  return connectionOf(db);
}

function connectionOf(db: Database): SqliteConnection {
  // Every statement is tracked and finalized at close: SQLite keeps a connection (and its
  // directory lock) alive while any statement of it is unfinalized.
  const statements = new Set<Statement>();
  const prepare = (sql: string) => {
    const statement = db.prepare(sql);
    statements.add(statement);
    return statement;
  };
  return {
    prepare,
    exec(sql) {
      db.exec(sql);
    },
    transaction(fn) {
      db.transaction(fn).immediate();
    },
    kyselyDatabase: () => ({
      close: () => {},
      prepare(sql) {
        const statement = prepare(sql);
        const params = (parameters: ReadonlyArray<unknown>) => parameters as SqlValue[];
        return {
          reader: statement.columnNames.length > 0,
          all: (parameters) => statement.all(...params(parameters)),
          run: (parameters) => statement.run(...params(parameters)),
          iterate: (parameters) => statement.iterate(...params(parameters)),
        };
      },
    }),
    close() {
      for (const statement of statements) statement.finalize();
      statements.clear();
      db.close(true);
    },
  };
}

function describeHolder(dataDir: string): string {
  try {
    const pid = readFileSync(join(dataDir, PID_FILE), "utf8").trim();
    return /^\d+$/.test(pid) ? ` (pid ${pid})` : "";
  } catch {
    return "";
  }
}
