/**
 * Machine limit (a): how fast this machine inserts into SQLite with an fsync per transaction,
 * with tqd's durability settings (lib/store/sqlite.ts: WAL, synchronous=FULL, exclusive
 * locking). Rows of about 100 bytes go into a table keyed by a text id, 1,000 per transaction
 * (one prepared statement, one COMMIT = one fsync of the WAL); then single-row transactions,
 * the fsync bound of anything that commits each request alone.
 *
 *   bun bench/limits/sqlite-inserts.ts [--rows 200000] [--batch 1000] [--single 2000]
 *
 * Prints one JSON line: {insertsPerSec, batch, rows, singleRowCommitsPerSec, singleRows}.
 * The database lives in a fresh directory under the OS temp dir, as the bench's tqd data does.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intFlag } from "./int-flag.ts";

const rows = intFlag("--rows", 200_000);
const batch = intFlag("--batch", 1_000);
const single = intFlag("--single", 2_000);
const INPUT = JSON.stringify({ user: "user-000123", action: "send-welcome-email", attempt: 0, note: "x".repeat(40) });

const dir = mkdtempSync(join(tmpdir(), "tqd-bench-sqlite-"));
const db = new Database(join(dir, "limit.db"), { create: true, strict: true });
try {
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE tasks (id TEXT PRIMARY KEY, queue TEXT NOT NULL, input TEXT NOT NULL, created_at INTEGER NOT NULL)");
  const insert = db.prepare("INSERT INTO tasks (id, queue, input, created_at) VALUES ($id, $queue, $input, $createdAt)");
  let next = 0;
  const insertMany = db.transaction((count: number) => {
    for (let i = 0; i < count; i++) insert.run({ id: `t-${next++}`, queue: "limit", input: INPUT, createdAt: Date.now() });
  });

  let start = performance.now();
  for (let done = 0; done < rows; done += batch) insertMany.immediate(Math.min(batch, rows - done));
  const batchedSeconds = (performance.now() - start) / 1000;

  start = performance.now();
  for (let i = 0; i < single; i++) insertMany.immediate(1);
  const singleSeconds = (performance.now() - start) / 1000;

  console.log(JSON.stringify({ insertsPerSec: Math.round(rows / batchedSeconds), batch, rows, singleRowCommitsPerSec: Math.round(single / singleSeconds), singleRows: single }));
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
