/**
 * Machine limit (c): durable writes one at a time with no database at all: a 200-byte record
 * appended to a preallocated file, then `fdatasync`, as a binlog (beanstalkd `-b -f 0`) does.
 * The floor of anything that makes each request durable alone before answering it, whatever
 * its store: tqd's single-row commits (limit a) sit above it by SQLite's own work.
 *
 *   bun bench/limits/synced-appends.ts [--writes 2000] [--bytes 200]
 *
 * Prints one JSON line: {syncedAppendsPerSec, writes, bytes, cpuUsPerAppend}. The file lives in
 * a fresh directory under the OS temp dir, as the bench's tqd data does.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intFlag } from "./int-flag.ts";

const writes = intFlag("--writes", 2_000);
const bytes = intFlag("--bytes", 200);

const dir = mkdtempSync(join(tmpdir(), "tqd-bench-appends-"));
const fd = openSync(join(dir, "appends.log"), "w");
try {
  // Preallocated and synced first, so each append's sync carries data only, not the file's growth.
  const zeros = Buffer.alloc(writes * bytes);
  writeSync(fd, zeros, 0, zeros.length, 0);
  fsyncSync(fd);
  const record = Buffer.alloc(bytes, "x");
  record[bytes - 1] = 10;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < writes; i++) {
    writeSync(fd, record, 0, bytes, i * bytes);
    fdatasyncSync(fd);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(JSON.stringify({ syncedAppendsPerSec: Math.round(writes / seconds), writes, bytes, cpuUsPerAppend: Math.round((cpu.user + cpu.system) / writes) }));
} finally {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
}
