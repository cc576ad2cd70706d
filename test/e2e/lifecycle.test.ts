/** The task lifecycle through the compiled binary: retries, dead letters, heartbeats, cancel, delay, ids. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, runTqd, startDaemon, startTqd, TQD_BIN } from "../support/tqd-process.ts";

const HANDLERS = resolve(import.meta.dirname, "fixtures/lifecycle-handlers.ts");

describe("task lifecycle (binary)", () => {
  test("a handler that always throws ends failed after maxAttempts, shows in dead ls, and requeue runs it again", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    await using worker = startTqd(["work", HANDLERS, "--queue", "jobs", ...server]);
    const runLog = join(dir.path, "runs.log");
    const input = JSON.stringify({ runLog });
    const failed = await runTqd(["enqueue", "jobs", "explode", input, "--id", "doomed", "--retries", "2", "--backoff", "100ms", "--wait", "--timeout", "20s", ...server]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain("boom on attempt 3");
    expect(readFileSync(runLog, "utf8").trim().split("\n")).toEqual(["doomed 1", "doomed 2", "doomed 3"]);

    const view = JSON.parse((await runTqd(["get", "doomed", "--json", ...server])).stdout);
    expect(view).toMatchObject({ state: "failed", attempt: 3 });
    expect(view.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["failed", "failed", "failed"]);

    const dead = await runTqd(["dead", "ls", "jobs", "--json", ...server]);
    expect(JSON.parse(dead.stdout).tasks.map((t: { id: string }) => t.id)).toEqual(["doomed"]);
    const failedCount = async () => JSON.parse((await runTqd(["describe", "jobs", "--json", ...server])).stdout).counts.failed;
    expect(await failedCount()).toBe(1);
    const requeued = await runTqd(["dead", "requeue", "jobs", "doomed", ...server]);
    expect(requeued.code, requeued.stderr).toBe(0);
    const again = await runTqd(["wait", "doomed", "--timeout", "20s", ...server]);
    expect(again.code).toBe(1);
    expect(readFileSync(runLog, "utf8").trim().split("\n")).toHaveLength(6);
    // The requeue took the task out of the final counts; failing again put it back once.
    expect(await failedCount()).toBe(1);
    worker.kill("SIGTERM");
    await worker.exited;
  });

  test("heartbeat details survive kill -9 of the worker into the next attempt", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const enqueued = await runTqd(["enqueue", "jobs", "resumable", "{}", "--heartbeat", "2s", "--backoff", "100ms", ...server]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const id = enqueued.stdout.trim();
    {
      await using doomed = startTqd(["work", HANDLERS, "--queue", "jobs", ...server]);
      await eventually(async () => {
        const view = JSON.parse((await runTqd(["get", id, "--json", ...server])).stdout);
        return view.heartbeatDetails?.step === 3 ? true : undefined;
      }, "step 3 to reach the server");
      doomed.kill("SIGKILL");
      await doomed.exited;
    }
    await using rescuer = startTqd(["work", HANDLERS, "--queue", "jobs", ...server]);
    const waited = await runTqd(["wait", id, "--timeout", "30s", ...server]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toEqual({ resumedFrom: 3, attempt: 2 });
    void rescuer;
  });

  test("cancel of a running, heartbeating task ends it canceled", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const marker = join(dir.path, "running");
    await using worker = startTqd(["work", HANDLERS, "--queue", "jobs", ...server]);
    const id = (await runTqd(["enqueue", "jobs", "cancellable", JSON.stringify({ marker }), ...server])).stdout.trim();
    await eventually(() => (existsSync(marker) ? true : undefined), "the handler to start");
    const canceled = await runTqd(["cancel", id, ...server]);
    expect(canceled.code, canceled.stderr).toBe(0);
    const waited = await runTqd(["wait", id, "--timeout", "20s", ...server]);
    expect(waited.code).toBe(1);
    const view = JSON.parse((await runTqd(["get", id, "--json", ...server])).stdout);
    expect(view).toMatchObject({ state: "canceled", attempt: 1 });
    void worker;
  });

  test("a delayed task does not start early, and a duplicate --id returns the same task", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    await using worker = startTqd(["work", HANDLERS, "--queue", "jobs", ...server]);
    const before = Date.now();
    // The delay leaves room for three CLI round trips on a loaded CI machine before it ends.
    const first = await runTqd(["enqueue", "jobs", "stamp", "{}", "--id", "later", "--delay", "5s", ...server]);
    const second = await runTqd(["enqueue", "jobs", "stamp", "{}", "--id", "later", "--delay", "5s", ...server]);
    expect([first.stdout.trim(), second.stdout.trim()]).toEqual(["later", "later"]);
    expect(JSON.parse((await runTqd(["get", "later", "--json", ...server])).stdout).state).toBe("scheduled");
    const waited = await runTqd(["wait", "later", "--timeout", "20s", ...server]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).startedAt - before).toBeGreaterThanOrEqual(5_000);
    const { queues } = JSON.parse((await runTqd(["queues", "--json", ...server])).stdout);
    expect(queues[0]).toMatchObject({ name: "jobs", completed: 1 });
    void worker;
  });

  test("enqueue --lines reads stdin through the binary: an id per line, run in order by a worker, waited for by tqd wait -", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i })).join("\n") + "\n";
    const enqueued = await runTqd(["enqueue", "bulk", "t", "--lines", ...server], { stdin: lines(3_000) });
    expect(enqueued.code, enqueued.stderr).toBe(0);
    expect(new Set(enqueued.stdout.trim().split("\n")).size).toBe(3_000);
    expect(enqueued.stderr.match(/^warning: /gm)).toHaveLength(1);
    expect(JSON.parse((await runTqd(["describe", "bulk", "--json", ...server])).stdout).counts).toMatchObject({ pending: 3_000 });
    const bad = await runTqd(["enqueue", "bulk", "t", "--lines", ...server], { stdin: '{"n":1}\n{oops\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("line 2 of stdin");

    // One slot: a worker runs them in the order of the lines.
    const log = join(dir.path, "order.log");
    const ordered = await runTqd(["enqueue", "ordered", "t", "--lines", ...server], { stdin: lines(100) });
    expect(ordered.code).toBe(0);
    await using worker = startTqd(["work", "--exec", `cat >> ${log}; echo >> ${log}`, "--queue", "ordered", "--type", "t", "--concurrency", "1", ...server]);
    // tqd wait - takes the ids as --lines printed them: a line per task once it ended.
    const waited = await runTqd(["wait", "-", "--timeout", "30s", ...server], { stdin: ordered.stdout, timeoutMs: 40_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout.trim().split("\n")).toEqual(ordered.stdout.trim().split("\n").map((id) => `${id} completed null`));
    expect(readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line).n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    void worker;
  });

  test("a reader that stops early (tqd ... | head) ends the command quietly with 141, as SIGPIPE would", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const stdin = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ n: i })).join("\n");
    const child = spawn(TQD_BIN, ["enqueue", "piped", "t", "--lines", "--json", "--server", daemon.url], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    // The first batch's answers arrive; then the reader goes, as head does after its lines.
    await new Promise<void>((resolveFirst) => child.stdout.once("data", () => resolveFirst()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolveExit) => child.on("exit", (exit) => resolveExit(exit)));
    expect(code, stderr).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|at |Bun v/);
  });

  test("Ctrl-C during enqueue --lines stops after the batch in flight: stdout holds every task enqueued, exit 130", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const stdin = Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ n: i })).join("\n");
    const child = spawn(TQD_BIN, ["enqueue", "interrupted", "t", "--lines", "--server", daemon.url], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    await new Promise<void>((resolveFirst) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        resolveFirst();
      }),
    );
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolveExit) => child.on("close", (exit) => resolveExit(exit)));
    expect(code, stderr).toBe(130);
    const printed = stdout.trim().split("\n").length;
    expect(printed).toBeLessThan(50_000);
    expect(stderr).toContain(`stopped by SIGINT: ${printed} of 50000 tasks were enqueued`);
    const described = JSON.parse((await runTqd(["describe", "interrupted", "--json", "--server", daemon.url])).stdout);
    expect(described.counts.pending).toBe(printed);
  });
});
