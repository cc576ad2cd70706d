/** Daemon + workers + CLI, all through the compiled binary, as a user runs them. */
import { readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, runTqd, startDaemon, startTqd } from "../support/tqd-process.ts";

const HELLO = resolve(import.meta.dirname, "../../examples/hello/handlers.ts");
const LIFECYCLE = resolve(import.meta.dirname, "fixtures/lifecycle-handlers.ts");

interface QueueCounts {
  name: string;
  pending: number;
  running: number;
  completed: number;
}

async function countsOf(url: string, queue: string): Promise<QueueCounts | undefined> {
  const { queues } = (await (await fetch(`${url}/v1/queues`)).json()) as { queues: QueueCounts[] };
  return queues.find((entry) => entry.name === queue);
}

describe("tqd work (binary)", () => {
  test("serve + work examples/hello + enqueue --wait prints the result", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    await using worker = startTqd(["work", HELLO, "--queue", "hello", "--server", daemon.url]);
    await worker.waitForOutput(/worker started/);
    const result = await runTqd(["enqueue", "hello", "greet", '{"name":"Ada"}', "--wait", "--server", daemon.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ greeting: "Hello, Ada!", attempt: 1 });

    const failed = await runTqd(["enqueue", "hello", "greet", "{}", "--wait", "--server", daemon.url]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("TypeError");
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("an idle worker with fewer slots than polled queues takes turns without polling back to back", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    // One slot parks on the queue; the host and worker queues take turns with the other.
    await using worker = startTqd(["work", HELLO, "--queue", "hello", "--concurrency", "2", "--server", daemon.url]);
    await worker.waitForOutput(/worker started/);
    const cpuMs = () => {
      const fields = readFileSync(`/proc/${worker.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
    };
    const before = cpuMs();
    await new Promise((r) => setTimeout(r, 3_000));
    // Turns that looked back to back spent about 1,700 ms of the 3 s here; taking turns idle costs about 20.
    expect(cpuMs() - before).toBeLessThan(600);
    const result = await runTqd(["enqueue", "hello", "greet", '{"name":"Ada"}', "--wait", "--timeout", "10s", "--server", daemon.url]);
    expect(result.code, result.stderr).toBe(0);
  });

  test("--exec runs a shell one-liner per task with the input on stdin", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    await using worker = startTqd(["work", "--exec", `jq -c '{sum: (.a + .b), id: env.TQD_TASK_ID}' 2>/dev/null || python3 -c 'import json,sys,os; d=json.load(sys.stdin); print(json.dumps({"sum": d["a"]+d["b"], "id": os.environ["TQD_TASK_ID"]}))'`, "--queue", "math", "--type", "add", "--server", daemon.url]);
    await worker.waitForOutput(/worker started/);
    const enqueued = await runTqd(["enqueue", "math", "add", '{"a":2,"b":40}', "--id", "sum-1", "--wait", "--server", daemon.url]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    expect(JSON.parse(enqueued.stdout)).toEqual({ sum: 42, id: "sum-1" });
  });

  test("SIGTERM while draining a backlog leaves no task running: none waits for its lease", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const total = 6_000;
    for (let sent = 0; sent < total; sent += 1_000) {
      const tasks = Array.from({ length: 1_000 }, () => ({ type: "noop" }));
      const response = await fetch(`${daemon.url}/v1/queues/backlog/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks }) });
      expect(response.status).toBe(201);
    }
    // Three workers in turn, each stopped mid-drain with its polls in flight (the default lease
    // is 5 minutes, so a stranded task would stay running far past the deadline below).
    for (let round = 1; round <= 3; round++) {
      const before = (await countsOf(daemon.url, "backlog"))!.completed;
      await using worker = startTqd(["work", LIFECYCLE, "--queue", "backlog", "--concurrency", "32", "--server", daemon.url]);
      await eventually(async () => ((await countsOf(daemon.url, "backlog"))!.completed >= before + 500 ? true : undefined), `round ${round}: 500 more completed`);
      worker.kill("SIGTERM");
      expect(await worker.exited, worker.stderr()).toBe(0);
      const after = await eventually(async () => {
        const counts = await countsOf(daemon.url, "backlog");
        return counts?.running === 0 ? counts : undefined;
      }, `round ${round}: no task running`, 10_000);
      expect(after.completed + after.pending).toBe(total);
    }
  });

  test("tasks a stopping worker gave back are pending after a kill -9 of the daemon right after it", async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    const total = 4_000;
    let port: string;
    {
      await using daemon = await startDaemon(data);
      port = new URL(daemon.url).port;
      for (let sent = 0; sent < total; sent += 1_000) {
        const tasks = Array.from({ length: 1_000 }, () => ({ type: "noop" }));
        const response = await fetch(`${daemon.url}/v1/queues/backlog/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks }) });
        expect(response.status).toBe(201);
      }
      await using worker = startTqd(["work", LIFECYCLE, "--queue", "backlog", "--concurrency", "32", "--server", daemon.url]);
      await eventually(async () => ((await countsOf(daemon.url, "backlog"))!.completed >= 500 ? true : undefined), "500 completed");
      worker.kill("SIGTERM");
      expect(await worker.exited, worker.stderr()).toBe(0);
      // At once: what the worker gave back while stopping must already be on its way to disk.
      daemon.kill("SIGKILL");
      await daemon.exited;
    }
    await using daemon = await startDaemon(data, ["--listen", `127.0.0.1:${port}`]);
    const counts = (await countsOf(daemon.url, "backlog"))!;
    // Leases are 5 minutes: a give-back lost in the crash would show as running here.
    expect(counts.running).toBe(0);
    expect(counts.completed + counts.pending).toBe(total);
  });

  test("500 tasks survive kill -9 of the daemon and each runs exactly once", async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    const ranLog = join(dir.path, "ran.log");
    {
      await using daemon = await startDaemon(data);
      const tasks = Array.from({ length: 500 }, (_, n) => ({ type: "job", input: { n } }));
      for (let i = 0; i < tasks.length; i += 100) {
        const response = await fetch(`${daemon.url}/v1/queues/durable/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks: tasks.slice(i, i + 100) }) });
        expect(response.status).toBe(201);
      }
      daemon.kill("SIGKILL");
      await daemon.exited;
    }
    await using daemon = await startDaemon(data);
    await using worker = startTqd(["work", "--exec", `echo "$TQD_TASK_ID" >> ${ranLog}; echo ok`, "--queue", "durable", "--type", "job", "--concurrency", "16", "--server", daemon.url]);
    await eventually(async () => {
      const { queues } = (await (await fetch(`${daemon.url}/v1/queues`)).json()) as { queues: { completed: number }[] };
      return queues[0]?.completed === 500 ? true : undefined;
    }, "500 completed tasks", 60_000);
    const ran = readFileSync(ranLog, "utf8").trim().split("\n");
    expect(ran).toHaveLength(500);
    expect(new Set(ran).size).toBe(500);
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("a task whose worker is killed with kill -9 is redelivered after its lease as attempt 2", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const started = join(dir.path, "started");
    const script = `if [ "$TQD_ATTEMPT" = 1 ]; then touch ${started}; sleep 60; fi; echo "{\\"attempt\\": $TQD_ATTEMPT}"`;
    const workerArgs = ["work", "--exec", script, "--queue", "q", "--type", "slow", "--server", daemon.url];
    const enqueued = await runTqd(["enqueue", "q", "slow", "{}", "--timeout-run", "2s", "--server", daemon.url]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const id = enqueued.stdout.trim();
    {
      await using doomed = startTqd(workerArgs);
      await eventually(() => (existsSync(started) ? true : undefined), "the first attempt to start");
      doomed.kill("SIGKILL");
      await doomed.exited;
    }
    await using rescuer = startTqd(workerArgs);
    const waited = await runTqd(["wait", id, "--timeout", "20s", "--server", daemon.url]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toEqual({ attempt: 2 });
    const view = await runTqd(["get", id, "--json", "--server", daemon.url]);
    expect(JSON.parse(view.stdout)).toMatchObject({ state: "completed", attempt: 2 });
  });
});

describe("CLI exit codes (binary)", () => {
  test("both transports run every task once: the worker stream (default) and --transport http", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    for (const transport of ["stream", "http"]) {
      const queue = `via-${transport}`;
      const ranLog = join(dir.path, `${transport}.log`);
      const tasks = Array.from({ length: 300 }, (_, n) => ({ type: "job", input: { n } }));
      const response = await fetch(`${daemon.url}/v1/queues/${queue}/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks }) });
      expect(response.status).toBe(201);
      await using worker = startTqd(["work", "--exec", `echo "$TQD_TASK_ID" >> ${ranLog}; echo ok`, "--queue", queue, "--type", "job", "--concurrency", "8", "--transport", transport, "--server", daemon.url, "--log-level", "debug"]);
      await eventually(async () => ((await countsOf(daemon.url, queue))?.completed === 300 ? true : undefined), `300 tasks completed over ${transport}`, 60_000);
      const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
      expect(metrics).toContain(`tqd_worker_streams ${transport === "stream" ? 1 : 0}\n`);
      const ran = readFileSync(ranLog, "utf8").trim().split("\n");
      expect([ran.length, new Set(ran).size]).toEqual([300, 300]);
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      // A stream worker never falls back on a server that has the stream.
      expect(worker.stderr()).not.toContain("refused the worker stream");
    }
  });

  test("2 for usage errors, 3 for an unreachable server, 4 for a wait that times out", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const usage = await runTqd(["enqueue", "q"]);
    expect(usage.code).toBe(2);
    const badJson = await runTqd(["enqueue", "q", "t", "{nope", "--server", daemon.url]);
    expect([badJson.code, /INPUT/i.test(badJson.stderr)]).toEqual([2, true]);
    const badFlag = await runTqd(["work", HELLO, "--queue", "q", "--concurrency", "zero"]);
    expect([badFlag.code, badFlag.stderr.includes("--concurrency")]).toEqual([2, true]);
    const badTransport = await runTqd(["work", HELLO, "--queue", "q", "--transport", "grpc"]);
    expect([badTransport.code, badTransport.stderr.includes("--transport")]).toEqual([2, true]);
    const unreachable = await runTqd(["queues", "--server", "http://127.0.0.1:9"]);
    expect([unreachable.code, unreachable.stderr.includes("http://127.0.0.1:9")]).toEqual([3, true]);
    const enqueued = await runTqd(["enqueue", "q", "t", "--server", daemon.url]);
    const timedOut = await runTqd(["wait", enqueued.stdout.trim(), "--timeout", "300ms", "--server", daemon.url]);
    expect(timedOut.code).toBe(4);
    const missing = await runTqd(["get", "no-such-task", "--server", daemon.url]);
    expect([missing.code, missing.stderr.includes("not_found")]).toEqual([1, true]);
  });
});
