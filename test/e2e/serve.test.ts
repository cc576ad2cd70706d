/** `tqd serve` through the compiled binary: start-up, bad input over the socket, auth, lock, shutdown. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DAEMON_ALLOCATOR_ENV } from "../../cmd/allocator-settings.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { errorBodySchema } from "../../lib/protocol/index.ts";
import { tempDir } from "../support/temp-dir.ts";
import { runTqd, startDaemon, startTqd, TQD_BIN } from "../support/tqd-process.ts";

describe("tqd serve (binary)", () => {
  test("version prints the version and the git commit", async () => {
    const result = await runTqd(["version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^tqd \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)\n$/);
  });

  test("malformed input of each kind gets its 4xx JSON over the socket, and the server keeps serving", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path, ["--max-body", "4096"]);
    const send = (path: string, init: RequestInit = {}) => fetch(daemon.url + path, { method: "POST", ...init });
    const cases: [Promise<Response>, number, string][] = [
      [send("/v1/queues/q/tasks", { body: "{oops" }), 400, "invalid_argument"],
      [send("/v1/queues/q/tasks", { body: JSON.stringify({ type: ["x"] }) }), 400, "invalid_argument"],
      [send("/v1/queues/no%20spaces/tasks", { body: JSON.stringify({ type: "t" }) }), 400, "invalid_argument"],
      [send("/v1/queues/q/tasks", { body: JSON.stringify({ type: "t", input: "x".repeat(10_000) }) }), 413, "payload_too_large"],
      [send("/v1/queues/q/tasks", { body: streamOf("x".repeat(20_000)) , duplex: "half" } as RequestInit), 413, "payload_too_large"],
      // Far past the limit, declared and in chunks: still tqd's JSON answer, not the HTTP server's empty one.
      [send("/v1/queues/q/tasks", { body: JSON.stringify({ type: "t", input: "x".repeat(200_000) }) }), 413, "payload_too_large"],
      [send("/v1/queues/q/tasks", { body: streamOf("x".repeat(300_000)), duplex: "half" } as RequestInit), 413, "payload_too_large"],
      [fetch(daemon.url + "/v2/whatever"), 404, "not_found"],
      [fetch(daemon.url + "/v1/queues/q/tasks"), 405, "method_not_allowed"],
      [send("/v1/tasks/none/complete", { body: JSON.stringify({ leaseToken: "x" }) }), 404, "not_found"],
    ];
    for (const [pending, status, code] of cases) {
      const response = await pending;
      const text = await response.text();
      expect(response.status, text).toBe(status);
      expect(errorBodySchema.parse(JSON.parse(text)).error.code).toBe(code);
      expect(text).not.toContain(dir.path);
    }
    const ok = await send("/v1/queues/q/tasks", { body: JSON.stringify({ type: "t" }) });
    expect(ok.status).toBe(201);
    // A body in chunks under the limit is read whole, a character split across chunks included.
    const input = "é".repeat(1_500);
    const chunked = await send("/v1/queues/q/tasks", { body: streamOf(JSON.stringify({ type: "t", input })), duplex: "half" } as RequestInit);
    expect(chunked.status).toBe(201);
    const { id } = (await chunked.json()) as { id: string };
    expect(((await (await fetch(`${daemon.url}/v1/tasks/${id}`)).json()) as { input: string }).input).toBe(input);
    expect((await fetch(daemon.url + "/readyz")).status).toBe(200);
  });

  test("the daemon starts over once under its allocator settings: the same pid and arguments, an operator's own value kept", async () => {
    await using dir = await tempDir();
    // Not ASCII: the arguments must reach the new image byte for byte.
    const data = join(dir.path, "données-ü");
    const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    await using daemon = await startDaemon(data);
    const pid = daemon.child.pid!;
    // The pid the test spawned now runs with every setting in its environment.
    for (const [key, value] of Object.entries(DAEMON_ALLOCATOR_ENV)) expect(environOf(pid)).toContain(`${key}=${value}`);
    expect(cmdlineOf(pid)).toEqual([TQD_BIN, "serve", "--listen", "127.0.0.1:0", "--data", data]);
    expect(daemon.stderr()).toContain(`data=${data}`);
    expect(daemon.stderr().match(/tqd serving/g)).toHaveLength(1);
    const client = new TqdClient({ baseUrl: daemon.url });
    expect((await client.enqueue("q", { type: "t" })).created).toBe(true);

    const [key, ownValue] = [Object.keys(DAEMON_ALLOCATOR_ENV)[0]!, "250"];
    await using own = await startDaemon(join(dir.path, "own"), [], { [key]: ownValue });
    const environ = environOf(own.child.pid!);
    expect(environ).toContain(`${key}=${ownValue}`);
    expect(environ).not.toContain(`${key}=${DAEMON_ALLOCATOR_ENV[key]}`);
    for (const [other, value] of Object.entries(DAEMON_ALLOCATOR_ENV)) if (other !== key) expect(environ).toContain(`${other}=${value}`);
  });

  test("an enqueue acknowledged before kill -9 is there after a restart", async () => {
    await using dir = await tempDir();
    let id: string;
    {
      await using daemon = await startDaemon(dir.path);
      const enqueued = await runTqd(["enqueue", "q", "t", '{"n":1}', "--server", daemon.url]);
      expect(enqueued.code, enqueued.stderr).toBe(0);
      id = enqueued.stdout.trim();
      daemon.kill("SIGKILL");
      await daemon.exited;
    }
    await using again = await startDaemon(dir.path);
    const got = await runTqd(["get", id, "--json", "--server", again.url]);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, state: "pending", input: { n: 1 } });
  });

  test("enqueues acknowledged over the stream (TqdClient transport stream) are there after kill -9 and a restart", async () => {
    await using dir = await tempDir();
    const ids: string[] = [];
    {
      await using daemon = await startDaemon(dir.path);
      const producer = new TqdClient({ baseUrl: daemon.url, transport: "stream" });
      // 16 producers at once: their enqueues share commits, each answered after its own.
      await Promise.all(
        Array.from({ length: 16 }, async (_, p) => {
          for (let i = 0; i < 20; i++) ids.push((await producer.enqueue("q", { type: "t", input: { p, i } })).id);
        }),
      );
      const batch = await producer.enqueueBatch("q", [{ type: "t" }, { type: "t" }]);
      ids.push(...batch.tasks.map((task) => task.id));
      daemon.kill("SIGKILL");
      await daemon.exited;
      producer.close();
    }
    await using again = await startDaemon(dir.path);
    const described = await runTqd(["describe", "q", "--json", "--server", again.url]);
    expect(JSON.parse(described.stdout)).toMatchObject({ counts: { pending: 322 } });
    const got = await runTqd(["get", ids[100]!, "--json", "--server", again.url]);
    expect(JSON.parse(got.stdout)).toMatchObject({ id: ids[100], state: "pending" });
  });

  test("once ready, the daemon releases what starting left behind, and keeps serving", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path, ["--log-level", "debug"]);
    await daemon.waitForOutput(/released startup memory ms=\d+/);
    const enqueued = await runTqd(["enqueue", "q", "t", "--server", daemon.url]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
  });

  test("a long-poll outlives Bun's default 10 s idle timeout and ends empty at waitMs", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path);
    const started = Date.now();
    const response = await fetch(`${daemon.url}/v1/queues/q/poll`, { method: "POST", body: JSON.stringify({ identity: "w", types: ["t"], waitMs: 12_000 }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tasks: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(11_900);
  });

  test("SIGTERM answers parked polls with an empty list and exits 0", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path);
    const poll = fetch(`${daemon.url}/v1/queues/q/poll`, { method: "POST", body: JSON.stringify({ identity: "w", types: ["t"], waitMs: 60_000 }) });
    await expectParked(daemon.url);
    daemon.kill("SIGTERM");
    const response = await poll;
    expect(await response.json()).toEqual({ tasks: [] });
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toContain("stopped");
  });

  test("a yielding poll ends empty when a task of its types is left ready on a queue it yields to", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path);
    const poll = (queue: string, body: object) =>
      fetch(`${daemon.url}/v1/queues/${encodeURIComponent(queue)}/poll`, { method: "POST", body: JSON.stringify({ identity: "w", types: ["t"], ...body }) });
    // The worker looked at its worker queue (nothing there), then parked its only slot on q,
    // yielding to its host and worker queues.
    expect(await (await poll("q@worker:w", { waitMs: 0 })).json()).toEqual({ tasks: [] });
    const parked = poll("q", { waitMs: 60_000, yieldTo: ["q@host:h", "q@worker:w"] });
    await expectParked(daemon.url);
    const enqueued = await runTqd(["enqueue", "q@worker:w", "t", "--server", daemon.url]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    // Long before its 60 s: the slot comes back to the worker, whose next look takes the task.
    expect(await (await parked).json()).toEqual({ tasks: [] });
    const look = (await (await poll("q@worker:w", { waitMs: 0 })).json()) as { tasks: { id: string }[] };
    expect(look.tasks.map((task) => task.id)).toEqual([enqueued.stdout.trim()]);
    // A task there already: the yielding poll does not park at all.
    const second = await runTqd(["enqueue", "q@host:h", "t", "--server", daemon.url]);
    expect(second.code, second.stderr).toBe(0);
    expect(await (await poll("q", { waitMs: 60_000, yieldTo: ["q@host:h", "q@worker:w"] })).json()).toEqual({ tasks: [] });
    expect(await (await poll("q", { waitMs: 0 })).json()).toEqual({ tasks: [] }); // nothing was leased from q
  });

  test("when its log's reader goes away the daemon keeps serving, and still stops cleanly on SIGTERM", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path, ["--log-level", "debug"]);
    daemon.child.stderr!.destroy();
    const client = new TqdClient({ baseUrl: daemon.url });
    // Requests go on being answered while every log line meets a closed pipe.
    for (let i = 0; i < 20; i++) await client.enqueue("q", { type: "t", input: { i } });
    expect(await client.describe("q")).toMatchObject({ counts: { pending: 20 } });
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
  });

  test("a second daemon on the same data directory is refused", async () => {
    await using dir = await tempDir();
    await using first = await startDaemon(dir.path);
    await using second = startTqd(["serve", "--listen", "127.0.0.1:0", "--data", dir.path]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/in use by another tqd \(pid \d+\)/);
    expect((await fetch(first.url + "/readyz")).status).toBe(200);
  });

  test("with --token, API calls need the bearer token and the CLI sends it", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path, ["--token", "correct-horse"]);
    expect((await fetch(daemon.url + "/v1/queues")).status).toBe(401);
    expect((await fetch(daemon.url + "/livez")).status).toBe(200);
    const denied = await runTqd(["queues", "--server", daemon.url, "--token", "wrong-token"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("unauthorized");
    const allowed = await runTqd(["queues", "--json", "--server", daemon.url], { env: { TQD_TOKEN: "correct-horse" } });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(daemon.stderr()).not.toContain("correct-horse");

    // Workers: the token opens the worker stream; a wrong one gets nothing over either transport.
    await using worker = startTqd(["work", "--exec", "echo ok", "--queue", "secured", "--type", "t", "--server", daemon.url, "--token", "correct-horse"]);
    const ran = await runTqd(["enqueue", "secured", "t", "--wait", "--server", daemon.url, "--token", "correct-horse"]);
    expect(ran.code, ran.stderr).toBe(0);
    const metrics = await (await fetch(daemon.url + "/metrics", { headers: { authorization: "Bearer correct-horse" } })).text();
    expect(metrics).toContain("tqd_worker_streams 1\n");
    await using intruder = startTqd(["work", "--exec", "echo ok", "--queue", "secured", "--type", "t", "--server", daemon.url, "--token", "wrong-token"]);
    await intruder.waitForOutput(/invalid bearer token/);
    intruder.kill("SIGTERM");
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("SIGTERM with a worker on the stream: the daemon closes the stream and exits 0, the worker keeps retrying", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path);
    await using worker = startTqd(["work", "--exec", "echo ok", "--queue", "q", "--type", "t", "--server", daemon.url]);
    await worker.waitForOutput(/worker started/);
    await expectParked(daemon.url);
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    await worker.waitForOutput(/cannot reach the tqd server|unreachable/i);
    expect(worker.child.exitCode).toBeNull();
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("invalid settings stop the start with a message naming the flag", async () => {
    await using dir = await tempDir();
    const open = await runTqd(["serve", "--listen", "0.0.0.0:0", "--data", dir.path]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("--token");
    const badListen = await runTqd(["serve", "--listen", "nope", "--data", dir.path]);
    expect([badListen.code, badListen.stderr.includes("--listen")]).toEqual([2, true]);
    const badEnv = await runTqd(["serve", "--data", dir.path], { env: { TQD_LISTEN: "127.0.0.1:99999" } });
    expect([badEnv.code, badEnv.stderr.includes("TQD_LISTEN")]).toEqual([2, true]);
    const badBody = await runTqd(["serve", "--max-body", "lots", "--data", dir.path]);
    expect([badBody.code, badBody.stderr.includes("--max-body")]).toEqual([2, true]);
    const unknown = await runTqd(["serve", "--frobnicate"]);
    expect([unknown.code, unknown.stderr.includes("--frobnicate")]).toEqual([2, true]);
  });

  test("--insecure allows a non-loopback listen with a warning", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(dir.path, ["--listen", "0.0.0.0:0", "--insecure"]);
    expect(daemon.stderr()).toContain("without a token");
  });
});

async function expectParked(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { queues } = (await (await fetch(url + "/v1/queues")).json()) as { queues: { pollersWaiting: number }[] };
    if ((queues[0]?.pollersWaiting ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error("poll never parked");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
      controller.close();
    },
  });
}
