/**
 * The admin commands against a real in-process server (port 0, temp data dir). Tasks are moved
 * along by calling the client's poll/complete/fail directly, standing in for a worker.
 */
import { describe, expect, it } from "vitest";
import * as enqueue from "../../cmd/admin/enqueue.ts";
import * as get from "../../cmd/admin/get.ts";
import * as queues from "../../cmd/admin/queues.ts";
import * as wait from "../../cmd/admin/wait.ts";
import { EXIT } from "../../cmd/io.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { TASK_ID_PATTERN, type LeasedTask } from "../../lib/protocol/index.ts";
import { capturedIo, type CapturedIoOptions } from "../support/captured-io.ts";
import { startTestServer } from "../support/test-server.ts";

type Command = { run: typeof enqueue.run };

async function tqd(url: string, command: Command, args: string[], options: CapturedIoOptions = {}) {
  const captured = capturedIo({ ...options, env: { TQD_SERVER: url, ...options.env } });
  const code = await command.run(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** Leases the next task of `queue` the way a worker would. */
async function leaseOne(client: TqdClient, queue: string): Promise<LeasedTask> {
  const [task] = await client.poll(queue, { identity: "test-worker", types: ["greet"], waitMs: 5_000 });
  if (!task) throw new Error(`no task to lease on ${queue}`);
  return task;
}

describe("tqd enqueue", () => {
  it("prints the new task's id", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, enqueue, ["hello", "greet", '{"name":"Ada"}']);
    expect(result).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(TASK_ID_PATTERN.test(result.stdout.trim())).toBe(true);
  });

  it("returns the same id when the same --id is enqueued twice", async () => {
    await using server = await startTestServer();
    const first = await tqd(server.url, enqueue, ["hello", "greet", "--id", "greet-ada"]);
    const second = await tqd(server.url, enqueue, ["hello", "greet", "--id", "greet-ada", "--json"]);
    expect(first.stdout).toBe("greet-ada\n");
    expect(JSON.parse(second.stdout)).toMatchObject({ id: "greet-ada", created: false });
  });

  it("reads the input from stdin when INPUT_JSON is -", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "-", "--id", "from-stdin"], { stdin: '{"name":"Bo"}' });
    const shown = await tqd(server.url, get, ["from-stdin", "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ input: { name: "Bo" } });
  });

  it("sends --timeout-run as the start-to-close timeout", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "slow", "--timeout-run", "90s"]);
    const shown = await tqd(server.url, get, ["slow", "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ startToCloseTimeoutMs: 90_000 });
  });

  it("with --wait prints the result once a worker completes the task", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    const waiting = tqd(server.url, enqueue, ["hello", "greet", '{"name":"Ada"}', "--wait", "--timeout", "30s"]);
    const leased = await leaseOne(client, "hello");
    await client.complete(leased.id, leased.leaseToken, { greeting: "hello Ada" });
    expect(await waiting).toEqual({ code: EXIT.ok, stdout: '{"greeting":"hello Ada"}\n', stderr: "" });
  });
});

describe("tqd get", () => {
  it("prints the task as one JSON line with --json", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", '{"name":"Ada"}', "--id", "t1"]);
    const result = await tqd(server.url, get, ["t1", "--json"]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: "t1", queue: "hello", type: "greet", state: "pending", input: { name: "Ada" } });
  });

  it("prints `key value` lines in a pipe", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const result = await tqd(server.url, get, ["t1"]);
    expect(result.stdout).toMatch(/^id t1\nqueue hello\ntype greet\nstate pending\n/);
  });

  it("exits 1 with not_found for an unknown id", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, get, ["nope"]);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/^error: not_found: /);
  });
});

describe("tqd queues", () => {
  it("prints the queue list as one JSON line with --json", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet"]);
    const result = await tqd(server.url, queues, ["--json"]);
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toEqual({
      queues: [{ name: "hello", pending: 1, running: 0, completed: 0, failed: 0, pollersWaiting: 0 }],
    });
  });

  it("prints one plain line per queue in a pipe", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet"]);
    expect((await tqd(server.url, queues, [])).stdout).toBe("hello 1 0 0 0 0\n");
  });
});

describe("tqd wait", () => {
  it("prints the result of a task completed while waiting", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const waiting = tqd(server.url, wait, ["t1"]);
    const leased = await leaseOne(client, "hello");
    await client.complete(leased.id, leased.leaseToken, 42);
    expect(await waiting).toEqual({ code: EXIT.ok, stdout: "42\n", stderr: "" });
  });

  it("prints null for a task completed without a result", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const leased = await leaseOne(client, "hello");
    await client.complete(leased.id, leased.leaseToken);
    expect(await tqd(server.url, wait, ["t1"])).toEqual({ code: EXIT.ok, stdout: "null\n", stderr: "" });
  });

  it("exits 1 with the error JSON on stderr when the task failed", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const leased = await leaseOne(client, "hello");
    await client.fail(leased.id, leased.leaseToken, { type: "ValueError", message: "no name" });
    const result = await tqd(server.url, wait, ["t1", "--timeout", "30s"]);
    expect(result.code).toBe(EXIT.failure);
    expect(JSON.parse(result.stderr)).toEqual({ type: "ValueError", message: "no name" });
  });

  it("exits 4 naming the task when --timeout runs out", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const result = await tqd(server.url, wait, ["t1", "--timeout", "200ms"]);
    expect(result.code).toBe(EXIT.timeout);
    expect(result.stderr).toMatch(/task t1/);
    expect(result.stdout).toBe("");
  });

  it("exits 1 with not_found for an unknown id", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, wait, ["nope", "--timeout", "1s"]);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/^error: not_found: /);
  });
});
