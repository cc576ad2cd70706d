/** Queues at scale through the compiled binary: throttling, pause, type-aware dispatch, describe, memory. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, runTqd, startDaemon, startTqd, type TqdProcess } from "../support/tqd-process.ts";

async function enqueueMany(url: string, queue: string, tasks: object[]): Promise<void> {
  for (let i = 0; i < tasks.length; i += 1_000) {
    const response = await fetch(`${url}/v1/queues/${encodeURIComponent(queue)}/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks: tasks.slice(i, i + 1_000) }) });
    expect(response.status).toBe(201);
  }
}

async function describeQueue(server: string[], queue: string) {
  const result = await runTqd(["describe", queue, "--json", ...server]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe("queues at scale (binary)", () => {
  test("10 workers under a 20/s limit dispatch 20/s plus the burst over 5 s", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const log = join(dir.path, "starts.log");
    await enqueueMany(daemon.url, "throttled", Array.from({ length: 400 }, () => ({ type: "t" })));
    const limited = await runTqd(["limit", "throttled", "--rate", "20/s", ...server]);
    expect(limited.code, limited.stderr).toBe(0);
    const workers: TqdProcess[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        workers.push(startTqd(["work", "--exec", `date +%s%3N >> ${log}`, "--queue", "throttled", "--type", "t", "--concurrency", "4", ...server]));
      }
      const starts = await eventually(() => {
        const lines = readLines(log).map(Number);
        return lines.length > 0 && Date.now() - Math.min(...lines) > 5_500 ? lines : undefined;
      }, "5 s of dispatches", 30_000);
      const first = Math.min(...starts);
      const inWindow = starts.filter((ms) => ms - first < 5_000).length;
      // 20/s over 5 s is 100, plus the burst of 20 that accrued before the workers came.
      expect(inWindow).toBeGreaterThanOrEqual(108);
      expect(inWindow).toBeLessThanOrEqual(132);
      const d = await describeQueue(server, "throttled");
      expect(d.rateLimit).toMatchObject({ source: "admin", effective: { ratePerSecond: 20, burst: 20 } });
      expect(d.pollers).toHaveLength(10);
    } finally {
      for (const worker of workers) await worker[Symbol.asyncDispose]();
    }
  });

  test("pause holds the backlog, explain says so, and resume drains it with nothing lost", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const log = join(dir.path, "ran.log");
    expect((await runTqd(["pause", "held", ...server])).code).toBe(0);
    await enqueueMany(daemon.url, "held", Array.from({ length: 50 }, (_, n) => ({ type: "t", id: `task-${n}` })));
    await using worker = startTqd(["work", "--exec", `echo "$TQD_TASK_ID" >> ${log}`, "--queue", "held", "--type", "t", "--identity", "holder", ...server]);
    await eventually(async () => ((await describeQueue(server, "held")).pollers.length === 1 ? true : undefined), "the worker to poll");
    const held = await describeQueue(server, "held");
    expect(held).toMatchObject({ paused: true, counts: { pending: 50, completed: 0 } });
    const explained = JSON.parse((await runTqd(["explain", "task-0", "--json", ...server])).stdout);
    expect(explained.reason).toBe("paused");
    expect((await runTqd(["resume", "held", ...server])).code).toBe(0);
    await eventually(async () => ((await describeQueue(server, "held")).counts.completed === 50 ? true : undefined), "the backlog to drain");
    expect(new Set(readLines(log)).size).toBe(50);
    expect(readLines(log)).toHaveLength(50);
    void worker;
  });

  test("a worker handling {a,b} gets every b task; one handling {a} never does; describe flags the difference", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const log = join(dir.path, "ran.log");
    await using both = startTqd(["work", "--exec", `echo "both $TQD_TASK_TYPE" >> ${log}`, "--queue", "mixed", "--type", "a", "--type", "b", "--identity", "both", ...server]);
    await using onlyA = startTqd(["work", "--exec", `echo "only-a $TQD_TASK_TYPE" >> ${log}`, "--queue", "mixed", "--type", "a", "--identity", "only-a", ...server]);
    await eventually(async () => ((await describeQueue(server, "mixed")).pollers.length === 2 ? true : undefined), "both workers to poll");
    const d = await describeQueue(server, "mixed");
    expect(d.pollerTypesDiffer).toBe(true);
    await enqueueMany(daemon.url, "mixed", Array.from({ length: 40 }, (_, n) => ({ type: n % 2 === 0 ? "a" : "b" })));
    await eventually(async () => ((await describeQueue(server, "mixed")).counts.completed === 40 ? true : undefined), "all 40 tasks");
    const lines = readLines(log);
    expect(lines.filter((line) => line.endsWith(" b"))).toEqual(new Array(20).fill("both b"));
    void both;
    void onlyA;
  });

  test("a killed worker leaves describe within twice its long-poll time; a stopped one at once", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const args = (identity: string) => ["work", "--exec", "true", "--queue", "watched", "--type", "t", "--identity", identity, "--poll-wait", "1s", ...server];
    await using killed = startTqd(args("killed"));
    await using stopped = startTqd(args("stopped"));
    const identities = async () => (await describeQueue(server, "watched")).pollers.map((p: { identity: string }) => p.identity).sort();
    await eventually(async () => ((await identities()).length === 2 ? true : undefined), "both workers to poll");
    stopped.kill("SIGTERM");
    await stopped.exited;
    expect(await identities()).toEqual(["killed"]);
    killed.kill("SIGKILL");
    await killed.exited;
    const started = Date.now();
    await eventually(async () => ((await identities()).length === 0 ? true : undefined), "the killed worker to leave describe", 10_000);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  test("100,000 queues with a task each, then idle: queues leave memory and RSS stays bounded", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const N = 100_000;
    const ids: string[] = [];
    let next = 0;
    const enqueueWorker = async () => {
      while (next < N) {
        const n = next++;
        const response = await fetch(`${daemon.url}/v1/queues/q-${n}/tasks`, { method: "POST", body: '{"type":"t"}' });
        ids.push(((await response.json()) as { id: string }).id);
      }
    };
    await Promise.all(Array.from({ length: 64 }, enqueueWorker));
    const busy = await metrics(daemon.url);
    expect(busy.tqd_queues_in_memory).toBe(N);
    let cancelled = 0;
    const cancelWorker = async () => {
      while (cancelled < ids.length) {
        const id = ids[cancelled++]!;
        await fetch(`${daemon.url}/v1/tasks/${id}/cancel`, { method: "POST" });
      }
    };
    await Promise.all(Array.from({ length: 64 }, cancelWorker));
    const drained = await metrics(daemon.url);
    expect(drained.tqd_queues_in_memory).toBe(0);
    expect(drained.tqd_live_tasks).toBe(0);
    // The documented bounds (README, "Queues at scale"): RSS under 640 MB while 100,000 queues
    // each hold a task; once idle, the next sweep (every 5 s) collects and the JS heap is back
    // under 96 MB.
    expect(busy.process_resident_memory_bytes).toBeLessThan(640 * 2 ** 20);
    const idle = await eventually(async () => {
      const now = await metrics(daemon.url);
      return now.tqd_heap_used_bytes! < 96 * 2 ** 20 ? now : undefined;
    }, "the heap to shrink after the queues went idle", 20_000);
    console.log(JSON.stringify({ w5: { busyRssMiB: mib(busy.process_resident_memory_bytes), busyHeapMiB: mib(busy.tqd_heap_used_bytes), idleRssMiB: mib(idle.process_resident_memory_bytes), idleHeapMiB: mib(idle.tqd_heap_used_bytes) } }));
  }, 120_000);
});

function mib(bytes: number | undefined): number {
  return Math.round((bytes ?? 0) / 2 ** 20);
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function metrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+) ([-\d.e+]+)$/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}
