/**
 * A backlog deeper than `--memory-backlog` waits in the store (lib/core/cold-tail.ts), through
 * the compiled binary: counted by /metrics, kept across kill -9, and drained by `tqd work` once
 * each, in order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, runTqd, startDaemon, startTqd } from "../support/tqd-process.ts";

const N = 300;

async function gauges(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries(text.split("\n").filter((line) => /^tqd_(live_tasks|tasks_in_store_only) /.test(line)).map((line) => line.split(" ") as [string, string]).map(([k, v]) => [k, Number(v)]));
}

describe("a deep backlog (binary)", () => {
  test("tasks past --memory-backlog wait in the store, survive kill -9, and are each run once, in order", async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    const flags = ["--memory-backlog", "10"];
    {
      await using daemon = await startDaemon(data, flags);
      const tasks = Array.from({ length: N }, (_, n) => ({ type: "t", input: { n } }));
      const response = await fetch(`${daemon.url}/v1/queues/q/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks }) });
      expect(response.status).toBe(201);
      expect(await gauges(daemon.url)).toEqual({ tqd_live_tasks: N, tqd_tasks_in_store_only: N - 10 });
      daemon.kill("SIGKILL");
      await daemon.exited;
    }
    await using daemon = await startDaemon(data, flags);
    expect(await gauges(daemon.url)).toEqual({ tqd_live_tasks: N, tqd_tasks_in_store_only: N - 10 });
    const before = await runTqd(["describe", "q", "--server", daemon.url]);
    expect(before.stdout.split("\n")).toContain(`backlogInStore ${N - 10}`);
    const log = join(dir.path, "runs.log");
    await using worker = startTqd(["work", "--exec", `cat >> '${log}'; echo >> '${log}'`, "--queue", "q", "--type", "t", "--concurrency", "1", "--server", daemon.url]);
    await eventually(async () => ((await gauges(daemon.url)).tqd_live_tasks === 0 ? true : undefined), "the backlog to drain", 60_000);
    const runs = readFileSync(log, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { n: number }).n);
    expect(runs).toEqual(Array.from({ length: N }, (_, n) => n));
    const described = await runTqd(["describe", "q", "--json", "--server", daemon.url]);
    expect(JSON.parse(described.stdout)).toMatchObject({ counts: { pending: 0, running: 0, completed: N }, backlog: { pending: 0, inStore: 0 } });
    worker.kill("SIGTERM");
    await worker.exited;
  }, 90_000);

  test("a requeue of dead tasks joins the back of the line and waits in the store past --memory-backlog", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"), ["--memory-backlog", "10"]);
    const server = ["--server", daemon.url];
    /** Enqueues one task per n; their ids, in order. */
    const batch = async (ns: number[], extra: object = {}) => {
      const response = await fetch(`${daemon.url}/v1/queues/q/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks: ns.map((n) => ({ type: "t", input: { n }, ...extra })) }) });
      expect(response.status).toBe(201);
      return ((await response.json()) as { tasks: { id: string }[] }).tasks.map((task) => task.id);
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    const dead = await batch(range(0, 40), { retryPolicy: { maxAttempts: 1 } });
    {
      await using failing = startTqd(["work", "--exec", "exit 1", "--queue", "q", "--type", "t", ...server]);
      await eventually(async () => ((await gauges(daemon.url)).tqd_live_tasks === 0 ? true : undefined), "the tasks to fail");
      failing.kill("SIGTERM");
      await failing.exited;
    }
    await batch(range(100, 105));
    // Oldest dead first: the order in which they failed.
    const requeued = await runTqd(["dead", "requeue", "q", "--all", ...server]);
    const requeuedIds = requeued.stdout.trim().split("\n");
    expect([requeued.code, [...requeuedIds].sort()]).toEqual([0, [...dead].sort()]);
    expect(await gauges(daemon.url)).toEqual({ tqd_live_tasks: 45, tqd_tasks_in_store_only: 35 });
    const log = join(dir.path, "runs.log");
    await using worker = startTqd(["work", "--exec", `cat >> '${log}'; echo >> '${log}'`, "--queue", "q", "--type", "t", "--concurrency", "1", ...server]);
    await eventually(async () => ((await gauges(daemon.url)).tqd_live_tasks === 0 ? true : undefined), "the requeued tasks to run");
    const runs = readFileSync(log, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { n: number }).n);
    expect(runs).toEqual([...range(100, 105), ...requeuedIds.map((id) => dead.indexOf(id))]);
    worker.kill("SIGTERM");
    await worker.exited;
  }, 60_000);

  test("a bad --memory-backlog is a usage error naming the flag", async () => {
    await using dir = await tempDir();
    const result = await runTqd(["serve", "--memory-backlog", "0", "--data", dir.path]);
    expect([result.code, result.stderr.includes("--memory-backlog")]).toEqual([2, true]);
  });
});
