/**
 * Benchmarks of the compiled `dist/tqd`, driven over HTTP and with real worker processes, as
 * users run it. Prints one JSON line per result, then a table. `--smoke` runs each workload
 * with a tiny N so CI keeps the benchmarks from rotting; timings are never asserted anywhere.
 *
 *   W1 throughput: N no-op tasks enqueued one by one (each awaited) and batched (1,000 per call),
 *      then drained by one worker process at concurrency 32.
 *   W2 round trip: an idle worker is polling; sequential enqueue -> observe completion.
 *   W3 fan-in: 16 concurrent producers enqueuing one by one (where group commit shows).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { peakRssMiB, spawnTqd, waitForOutput, type Spawned } from "./bench-process.ts";

const smoke = process.argv.includes("--smoke");
const N = smoke ? 300 : 20_000;
const ROUNDS = smoke ? 30 : 2_000;
const FANIN_N = smoke ? 320 : 20_000;
const PAYLOAD = { user: "user-000123", action: "send-welcome-email", attempt: 0, note: "x".repeat(40) };
const HANDLERS = resolve(import.meta.dirname, "noop-handlers.ts");

interface Result {
  workload: string;
  [metric: string]: number | string | undefined;
}

async function withDaemon<T>(fn: (url: string, daemon: Spawned) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "tqd-bench-"));
  const daemon = spawnTqd(["serve", "--listen", "127.0.0.1:0", "--data", dir]);
  try {
    const url = (await waitForOutput(daemon, /tqd serving url=(\S+)/))[1]!;
    return await fn(url, daemon);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

async function completedCount(url: string, queue: string): Promise<number> {
  const { queues } = (await (await fetch(`${url}/v1/queues`)).json()) as { queues: { name: string; completed: number }[] };
  return queues.find((q) => q.name === queue)?.completed ?? 0;
}

async function drain(url: string, queue: string, n: number): Promise<{ seconds: number; workerRssMiB: number | undefined }> {
  const worker = spawnTqd(["work", HANDLERS, "--queue", queue, "--concurrency", "32", "--server", url, "--log-level", "warn"]);
  const start = performance.now();
  let workerRssMiB: number | undefined;
  try {
    while ((await completedCount(url, queue)) < n) {
      workerRssMiB = peakRssMiB(worker.child.pid) ?? workerRssMiB;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { seconds: (performance.now() - start) / 1000, workerRssMiB };
  } finally {
    await worker.stop();
  }
}

async function throughput(mode: "single" | "batch"): Promise<Result> {
  return withDaemon(async (url, daemon) => {
    const queue = `w1-${mode}`;
    const start = performance.now();
    if (mode === "single") {
      for (let i = 0; i < N; i++) await post(`${url}/v1/queues/${queue}/tasks`, { type: "noop", input: PAYLOAD });
    } else {
      for (let i = 0; i < N; i += 1000) {
        const tasks = Array.from({ length: Math.min(1000, N - i) }, () => ({ type: "noop", input: PAYLOAD }));
        await post(`${url}/v1/queues/${queue}/tasks/batch`, { tasks });
      }
    }
    const enqueueSeconds = (performance.now() - start) / 1000;
    const drained = await drain(url, queue, N);
    return {
      workload: `W1 throughput, enqueue ${mode === "single" ? "one by one" : "batched 1000"}`,
      n: N,
      enqueuePerSec: Math.round(N / enqueueSeconds),
      processPerSec: Math.round(N / drained.seconds),
      wallSeconds: round(enqueueSeconds + drained.seconds),
      serverPeakRssMiB: peakRssMiB(daemon.child.pid),
      workerPeakRssMiB: drained.workerRssMiB,
    };
  });
}

async function roundTrip(): Promise<Result> {
  return withDaemon(async (url) => {
    const worker = spawnTqd(["work", HANDLERS, "--queue", "w2", "--concurrency", "1", "--server", url, "--log-level", "warn"]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS + 5; i++) {
        const start = performance.now();
        const { id } = (await post(`${url}/v1/queues/w2/tasks`, { type: "noop", input: PAYLOAD })) as { id: string };
        const view = (await (await fetch(`${url}/v1/tasks/${id}?waitMs=10000`)).json()) as { state: string };
        if (view.state !== "completed") throw new Error(`task ${id} ended ${view.state}`);
        if (i >= 5) samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      const at = (q: number) => round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!);
      return { workload: "W2 round trip (enqueue -> completion observed)", rounds: ROUNDS, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
    } finally {
      await worker.stop();
    }
  });
}

async function fanIn(): Promise<Result> {
  return withDaemon(async (url) => {
    const producers = 16;
    const perProducer = FANIN_N / producers;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: producers }, async () => {
        for (let i = 0; i < perProducer; i++) await post(`${url}/v1/queues/w3/tasks`, { type: "noop", input: PAYLOAD });
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return { workload: "W3 fan-in, 16 producers one by one", n: FANIN_N, enqueuePerSec: Math.round(FANIN_N / seconds) };
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const results: Result[] = [];
for (const workload of [() => throughput("single"), () => throughput("batch"), roundTrip, fanIn]) {
  const result = await workload();
  results.push(result);
  console.log(JSON.stringify({ ...result, smoke }));
}
console.log("");
for (const { workload, ...metrics } of results) {
  console.log(`${workload.padEnd(48)} ${Object.entries(metrics).map(([k, v]) => `${k}=${v}`).join("  ")}`);
}
