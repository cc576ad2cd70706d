/**
 * The limits of this machine, measured in the same run as tqd, and tqd as a fraction of them:
 *   (a) bench/limits/sqlite-inserts.ts: SQLite inserts/s in WAL + synchronous=FULL, 1,000 rows
 *       per transaction (and single-row commits/s, the fsync bound);
 *   (b) bench/limits/serve-json.ts: a trivial `Bun.serve` JSON route in its own process,
 *       driven by the bench's HTTP client one request at a time and from 16 concurrent
 *       producers, as W1 (one by one) and W3 drive tqd's enqueue;
 *   (c) bench/limits/synced-appends.ts: 200-byte appends to a preallocated file, each followed
 *       by `fdatasync`: the floor of any store that makes a lone request durable before its
 *       answer (a one-by-one enqueue), SQLite or not.
 * Runs last, so the closing `vs-limits` line can divide the tqd results of the same run.
 */
import { resolve } from "node:path";
import type { BenchOptions } from "../support/options.ts";
import { ratio, type Report } from "../support/report.ts";
import { PAYLOAD, post } from "../support/tqd-api.ts";
import { spawnProcess, waitForOutput } from "../support/tqd-process.ts";

const LIMITS = resolve(import.meta.dirname, "../limits");
const CONCURRENT_PRODUCERS = 16;

export async function runMachineLimits(options: BenchOptions, report: Report): Promise<void> {
  const sqlite = await sqliteInserts(options);
  report.add({ id: "limits-sqlite", workload: "Limit: SQLite inserts, WAL + fsync per txn", ...sqlite });
  const serve = await serveRequests(options.limitRequests);
  report.add({ id: "limits-serve", workload: "Limit: Bun.serve trivial JSON route", requests: options.limitRequests, ...serve });
  const appends = await syncedAppends(single(options));
  report.add({ id: "limits-fsync", workload: "Limit: 200-byte appends, fdatasync each", ...appends });
  report.add({
    id: "vs-limits",
    workload: "tqd as a fraction of the machine limits",
    w1BatchedEnqueueOfSqliteRatio: ratio(report.find("W1-batch")?.enqueuePerSec, sqlite.insertsPerSec),
    w4EnqueueOfSqliteRatio: ratio(report.find("W4")?.enqueuePerSec, sqlite.insertsPerSec),
    w1SingleEnqueueOfServeSequentialRatio: ratio(report.find("W1-single")?.enqueuePerSec, serve.sequentialPerSec),
    w1SingleEnqueueOfSingleRowCommitsRatio: ratio(report.find("W1-single")?.enqueuePerSec, sqlite.singleRowCommitsPerSec),
    w1SingleStreamEnqueueOfSyncedAppendsRatio: ratio(report.find("W1-single-stream")?.enqueuePerSec, appends.syncedAppendsPerSec),
    w3EnqueueOfServeConcurrentRatio: ratio(report.find("W3")?.enqueuePerSec, serve.concurrent16PerSec),
  });
}

interface SqliteLimit {
  insertsPerSec: number;
  batch: number;
  rows: number;
  singleRowCommitsPerSec: number;
  singleRows: number;
}

/** Lone durable writes each limit times: 2,000 in a full run, 100 in smoke mode. */
function single(options: BenchOptions): number {
  return Math.max(100, Math.round(options.limitRows / 100));
}

async function sqliteInserts(options: BenchOptions): Promise<SqliteLimit> {
  const script = spawnProcess(process.execPath, [`${LIMITS}/sqlite-inserts.ts`, "--rows", String(options.limitRows), "--single", String(single(options))]);
  const line = (await waitForOutput(script, /^\{.*\}$/m, 300_000))[0];
  await script.stop();
  return JSON.parse(line) as SqliteLimit;
}

interface SyncedAppendsLimit {
  syncedAppendsPerSec: number;
  writes: number;
  bytes: number;
  cpuUsPerAppend: number;
}

async function syncedAppends(writes: number): Promise<SyncedAppendsLimit> {
  const script = spawnProcess(process.execPath, [`${LIMITS}/synced-appends.ts`, "--writes", String(writes)]);
  const line = (await waitForOutput(script, /^\{.*\}$/m, 300_000))[0];
  await script.stop();
  return JSON.parse(line) as SyncedAppendsLimit;
}

async function serveRequests(requests: number): Promise<{ sequentialPerSec: number; concurrent16PerSec: number }> {
  const server = spawnProcess(process.execPath, [`${LIMITS}/serve-json.ts`]);
  try {
    const url = (await waitForOutput(server, /serve-json url=(\S+)/))[1]!;
    const enqueue = () => post(`${url}/v1/queues/limit/tasks`, { type: "noop", input: PAYLOAD });
    let start = performance.now();
    for (let i = 0; i < requests; i++) await enqueue();
    const sequentialPerSec = Math.round(requests / ((performance.now() - start) / 1000));
    const perProducer = Math.ceil(requests / CONCURRENT_PRODUCERS);
    start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENT_PRODUCERS }, async () => {
        for (let i = 0; i < perProducer; i++) await enqueue();
      }),
    );
    const concurrent16PerSec = Math.round((perProducer * CONCURRENT_PRODUCERS) / ((performance.now() - start) / 1000));
    return { sequentialPerSec, concurrent16PerSec };
  } finally {
    await server.stop();
  }
}
