/**
 * The admin commands against a real in-process server (port 0, temp data dir). Tasks are moved
 * along by calling the client's poll/complete/fail directly, standing in for a worker.
 */
import { describe, expect, it } from "vitest";
import * as cancel from "../../cmd/admin/cancel.ts";
import * as complete from "../../cmd/admin/complete.ts";
import * as dead from "../../cmd/admin/dead.ts";
import * as enqueue from "../../cmd/admin/enqueue.ts";
import * as fail from "../../cmd/admin/fail.ts";
import * as get from "../../cmd/admin/get.ts";
import * as queues from "../../cmd/admin/queues.ts";
import * as wait from "../../cmd/admin/wait.ts";
import * as describeQueue from "../../cmd/admin/describe.ts";
import * as explain from "../../cmd/admin/explain.ts";
import * as fairness from "../../cmd/admin/fairness.ts";
import * as limit from "../../cmd/admin/limit.ts";
import * as pause from "../../cmd/admin/pause.ts";
import * as resume from "../../cmd/admin/resume.ts";
import * as route from "../../cmd/admin/route.ts";
import { EXIT } from "../../cmd/io.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { TASK_ID_PATTERN, encodeCompletionToken, type LeasedTask } from "../../lib/protocol/index.ts";
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
    await server.client.poll("hello", { identity: "w", types: ["greet"], waitMs: 0 }); // no typo-guard warning
    const result = await tqd(server.url, enqueue, ["hello", "greet", '{"name":"Ada"}']);
    expect(result).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(TASK_ID_PATTERN.test(result.stdout.trim())).toBe(true);
  });

  it("mints a time-sortable id itself when --id is absent, so a retried request is idempotent", async () => {
    await using server = await startTestServer();
    const first = (await tqd(server.url, enqueue, ["hello", "greet"])).stdout.trim();
    const second = (await tqd(server.url, enqueue, ["hello", "greet"])).stdout.trim();
    expect(first).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(first < second).toBe(true);
    expect((await server.client.getTask(first)).state).toBe("pending");
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
      queues: [{ name: "hello", scheduled: 0, pending: 1, running: 0, completed: 0, failed: 0, canceled: 0, timedOut: 0, pollersWaiting: 0 }],
    });
  });

  it("prints one plain line per queue in a pipe, the new counts appended", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet"]);
    await tqd(server.url, enqueue, ["hello", "greet", "--delay", "1h"]);
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "c1"]);
    await tqd(server.url, cancel, ["c1"]);
    // name pending running completed failed pollersWaiting scheduled canceled timedOut
    expect((await tqd(server.url, queues, [])).stdout).toBe("hello 1 0 0 0 0 1 1 0\n");
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
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1", "--retries", "0"]);
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

describe("tqd wait with many ids", () => {
  /** Enqueues t1..t3, then completes t1 (result 1), fails t2 for good, and completes t3 without a result. */
  async function threeEnded(url: string, client: TqdClient): Promise<void> {
    for (const id of ["t1", "t2", "t3"]) await tqd(url, enqueue, ["hello", "greet", "--id", id, "--retries", "0"]);
    for (const id of ["t1", "t2", "t3"]) {
      const leased = await leaseOne(client, "hello");
      expect(leased.id).toBe(id);
      if (id === "t1") await client.complete(id, leased.leaseToken, 1);
      else if (id === "t2") await client.fail(id, leased.leaseToken, { type: "ValueError", message: "no name" });
      else await client.complete(id, leased.leaseToken);
    }
  }

  it("prints `ID STATE JSON` per task in the order given; exit 1 when one did not complete", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await threeEnded(server.url, client);
    expect(await tqd(server.url, wait, ["t3", "t2", "t1"])).toEqual({
      code: EXIT.failure,
      stdout: 't3 completed null\nt2 failed {"type":"ValueError","message":"no name"}\nt1 completed 1\n',
      stderr: "",
    });
    expect(await tqd(server.url, wait, ["t1", "t3"])).toEqual({ code: EXIT.ok, stdout: "t1 completed 1\nt3 completed null\n", stderr: "" });
  });

  it("reads the ids from stdin with -, and prints each task with --json", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await threeEnded(server.url, client);
    const result = await tqd(server.url, wait, ["-", "--json"], { stdin: "t1\n\nt3\n" });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout.trim().split("\n").map((line) => JSON.parse(line))).toMatchObject([
      { id: "t1", state: "completed", result: 1 },
      { id: "t3", state: "completed" },
    ]);
    const bad = await tqd(server.url, wait, ["-"], { stdin: "t1\nnot an id!\n" });
    expect(bad).toMatchObject({ code: EXIT.usage, stdout: "" });
    expect(bad.stderr).toMatch(/line 2 of stdin is not a task id/);
    expect((await tqd(server.url, wait, ["t1", "-"], { stdin: "t3\n" })).code).toBe(EXIT.usage);
  });

  it("waits for each in turn under one deadline: a task ending later is printed when it ends; --timeout exits 4 after what ended", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url });
    await threeEnded(server.url, client);
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t4"]);
    const waiting = tqd(server.url, wait, ["t1", "t4", "t3"]);
    const leased = await leaseOne(client, "hello");
    await client.complete(leased.id, leased.leaseToken, "late");
    expect(await waiting).toEqual({ code: EXIT.ok, stdout: 't1 completed 1\nt4 completed "late"\nt3 completed null\n', stderr: "" });

    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t5"]);
    const timedOut = await tqd(server.url, wait, ["t1", "t5", "t3", "--timeout", "200ms"]);
    expect(timedOut).toMatchObject({ code: EXIT.timeout, stdout: "t1 completed 1\n" });
    expect(timedOut.stderr).toMatch(/waiting for task t5 \(state: pending\); 1 of 3 tasks were printed/);
    const unknown = await tqd(server.url, wait, ["t1", "nope"]);
    expect(unknown).toMatchObject({ code: EXIT.failure, stdout: "t1 completed 1\n" });
    expect(unknown.stderr).toMatch(/not_found[\s\S]*1 of 2 tasks were printed; stopped at task nope/);
  });
});

describe("tqd enqueue lifecycle flags", () => {
  it("sends every timeout, the priority and the retry policy", async () => {
    await using server = await startTestServer();
    const args = ["hello", "greet", "--id", "t1", "--priority", "1", "--timeout-start", "1m", "--timeout-run", "30s"];
    args.push("--timeout-total", "1h", "--heartbeat", "10s", "--retries", "4", "--backoff", "2s,3,1m");
    args.push("--non-retryable", "ValueError", "--non-retryable", "KeyError");
    expect((await tqd(server.url, enqueue, args)).code).toBe(EXIT.ok);
    const task = JSON.parse((await tqd(server.url, get, ["t1", "--json"])).stdout);
    expect(task).toMatchObject({
      priority: 1,
      scheduleToStartTimeoutMs: 60_000,
      startToCloseTimeoutMs: 30_000,
      scheduleToCloseTimeoutMs: 3_600_000,
      heartbeatTimeoutMs: 10_000,
      retryPolicy: { initialIntervalMs: 2_000, backoffCoefficient: 3, maxIntervalMs: 60_000, maxAttempts: 5, nonRetryableErrorTypes: ["ValueError", "KeyError"] },
    });
  });

  it("schedules a task with --delay and with --at", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "later", "--delay", "1h"]);
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "at", "--at", "2099-01-01T00:00:00Z"]);
    const later = JSON.parse((await tqd(server.url, get, ["later", "--json"])).stdout);
    expect(later.state).toBe("scheduled");
    expect(Date.parse(later.runAt) - Date.parse(later.createdAt)).toBe(3_600_000);
    expect(JSON.parse((await tqd(server.url, get, ["at", "--json"])).stdout)).toMatchObject({ state: "scheduled", runAt: "2099-01-01T00:00:00.000Z" });
  });

  it("hands out the task of priority 1 before an older one of priority 5", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "low", "--priority", "5"]);
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "high", "--priority", "1"]);
    expect((await leaseOne(server.client, "hello")).id).toBe("high");
  });

  it("prints the server's 400 naming the field for a combination only the server judges", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, enqueue, ["hello", "greet", "--timeout-run", "10s", "--heartbeat", "1m"]);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/^error: invalid_argument: .*heartbeatTimeout/);
    expect(result.stdout).toBe("");
  });

  it("follows --if-exists when --id names a task that already ended", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "once"]);
    const leased = await leaseOne(server.client, "hello");
    await server.client.complete(leased.id, leased.leaseToken, 1);
    const rejected = await tqd(server.url, enqueue, ["hello", "greet", "--id", "once"]);
    expect(rejected.code).toBe(EXIT.failure);
    expect(rejected.stderr).toMatch(/^error: conflict: /);
    const returned = await tqd(server.url, enqueue, ["hello", "greet", "--id", "once", "--if-exists", "return", "--json"]);
    expect(JSON.parse(returned.stdout)).toMatchObject({ id: "once", state: "completed", created: false });
    const renewed = await tqd(server.url, enqueue, ["hello", "greet", "--id", "once", "--if-exists", "new", "--json"]);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ id: "once", state: "pending", created: true });
  });
});

describe("tqd get with a history", () => {
  it("prints one `attempts` line per attempt in a pipe", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1", "--retries", "1", "--backoff", "1ms"]);
    const first = await leaseOne(server.client, "hello");
    await server.client.fail(first.id, first.leaseToken, { type: "Flaky", message: "try again" });
    const second = await leaseOne(server.client, "hello");
    await server.client.complete(second.id, second.leaseToken, "ok");
    const lines = (await tqd(server.url, get, ["t1"])).stdout.trimEnd().split("\n");
    const attempts = lines.filter((line) => line.startsWith("attempts "));
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatch(/^attempts 1 test-worker \S+ \S+ failed \{"type":"Flaky","message":"try again"\}$/);
    expect(attempts[1]).toMatch(/^attempts 2 test-worker \S+ \S+ completed$/);
  });
});

describe("tqd cancel", () => {
  it("cancels a pending task at once; tqd wait then exits 1", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    expect(await tqd(server.url, cancel, ["t1", "--reason", "not needed"])).toEqual({ code: EXIT.ok, stdout: "canceled\n", stderr: "" });
    const waited = await tqd(server.url, wait, ["t1", "--timeout", "5s"]);
    expect(waited.code).toBe(EXIT.failure);
    expect(JSON.parse(waited.stderr)).toMatchObject({ type: expect.any(String), message: expect.any(String) });
    expect(await server.client.poll("hello", { identity: "w", types: ["greet"], waitMs: 0 })).toEqual([]);
  });

  it("asks a running task's worker to stop", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const leased = await leaseOne(server.client, "hello");
    expect((await tqd(server.url, cancel, ["t1"])).stdout).toBe("cancel_requested\n");
    expect(await server.client.heartbeat(leased.id, leased.leaseToken)).toMatchObject({ cancelRequested: true });
    const json = await tqd(server.url, cancel, ["t1", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ id: "t1", state: "running", cancelRequested: true });
  });

  it("exits 1 for a task that already ended and for an unknown id", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    await tqd(server.url, cancel, ["t1"]);
    const again = await tqd(server.url, cancel, ["t1"]);
    expect(again.code).toBe(EXIT.failure);
    expect(again.stderr).toMatch(/^error: conflict: /);
    const unknown = await tqd(server.url, cancel, ["nope"]);
    expect(unknown.code).toBe(EXIT.failure);
    expect(unknown.stderr).toMatch(/^error: not_found: /);
  });
});

/** Enqueues `id` with no retries and fails its only attempt, so it is dead. */
async function killTask(url: string, client: TqdClient, id: string, message = "boom"): Promise<void> {
  await tqd(url, enqueue, ["emails", "greet", "--id", id, "--retries", "0"]);
  const leased = await leaseOne(client, "emails");
  await client.fail(leased.id, leased.leaseToken, { type: "SmtpError", message });
}

describe("tqd dead", () => {
  it("lists dead tasks one plain line each, and as JSON", async () => {
    await using server = await startTestServer();
    await killTask(server.url, server.client, "d1", "550 mailbox unavailable");
    const listed = await tqd(server.url, dead, ["ls", "emails"]);
    expect(listed.code).toBe(EXIT.ok);
    expect(listed.stdout).toMatch(/^d1 greet failed 1 \S+Z SmtpError: 550 mailbox unavailable\n$/);
    const json = JSON.parse((await tqd(server.url, dead, ["ls", "emails", "--json", "--limit", "10"])).stdout);
    expect(json.tasks).toHaveLength(1);
    expect(json.tasks[0]).toMatchObject({ id: "d1", state: "failed", error: { type: "SmtpError" } });
  });

  it("requeues named tasks with a fresh attempt budget and prints their ids", async () => {
    await using server = await startTestServer();
    await killTask(server.url, server.client, "d1");
    await killTask(server.url, server.client, "d2");
    expect(await tqd(server.url, dead, ["requeue", "emails", "d2"])).toEqual({ code: EXIT.ok, stdout: "d2\n", stderr: "" });
    expect((await server.client.getTask("d2")).state).toBe("pending");
    expect((await tqd(server.url, dead, ["ls", "emails"])).stdout).toMatch(/^d1 /);
    expect((await tqd(server.url, dead, ["requeue", "emails", "--all"])).stdout).toBe("d1\n");
    expect((await tqd(server.url, dead, ["ls", "emails"])).stdout).toBe("");
  });

  it("exits 1 naming the ids that were not dead", async () => {
    await using server = await startTestServer();
    await killTask(server.url, server.client, "d1");
    const result = await tqd(server.url, dead, ["requeue", "emails", "d1", "nope"]);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/nope/);
  });

  it("purges dead tasks and prints the count", async () => {
    await using server = await startTestServer();
    await killTask(server.url, server.client, "d1");
    await killTask(server.url, server.client, "d2");
    expect((await tqd(server.url, dead, ["purge", "emails", "--older", "1h"])).stdout).toBe("0\n");
    expect(await tqd(server.url, dead, ["purge", "emails"])).toEqual({ code: EXIT.ok, stdout: "2\n", stderr: "" });
    expect((await tqd(server.url, dead, ["ls", "emails"])).stdout).toBe("");
  });
});

describe("tqd complete and tqd fail", () => {
  it("completes a task from its token with a result read from stdin", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    const leased = await leaseOne(server.client, "hello");
    const token = encodeCompletionToken({ taskId: leased.id, leaseToken: leased.leaseToken });
    expect(await tqd(server.url, complete, [token, "-"], { stdin: '{"approved":true}' })).toEqual({ code: EXIT.ok, stdout: "completed\n", stderr: "" });
    expect(await tqd(server.url, wait, ["t1"])).toEqual({ code: EXIT.ok, stdout: '{"approved":true}\n', stderr: "" });
  });

  it("exits 1 with the server's error for a stale token or an unknown task", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1"]);
    await leaseOne(server.client, "hello");
    const stale = await tqd(server.url, complete, [encodeCompletionToken({ taskId: "t1", leaseToken: "WRONG" })]);
    expect(stale.code).toBe(EXIT.failure);
    expect(stale.stderr).toMatch(/^error: conflict: /);
    const unknown = await tqd(server.url, complete, [encodeCompletionToken({ taskId: "nope", leaseToken: "WRONG" })]);
    expect(unknown.code).toBe(EXIT.failure);
    expect(unknown.stderr).toMatch(/^error: not_found: /);
  });

  it("fails an attempt: scheduled while retries are left, failed with --non-retryable", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["hello", "greet", "--id", "t1", "--retries", "3", "--backoff", "1ms"]);
    const first = await leaseOne(server.client, "hello");
    const firstToken = encodeCompletionToken({ taskId: first.id, leaseToken: first.leaseToken });
    expect((await tqd(server.url, fail, [firstToken, "--type", "Flaky", "--message", "later"])).stdout).toBe("scheduled\n");
    const second = await leaseOne(server.client, "hello");
    const secondToken = encodeCompletionToken({ taskId: second.id, leaseToken: second.leaseToken });
    const final = await tqd(server.url, fail, [secondToken, "--type", "Rejected", "--message", "no", "--non-retryable", "--json"]);
    expect(JSON.parse(final.stdout)).toEqual({ id: "t1", state: "failed" });
    expect((await server.client.getTask("t1")).error).toMatchObject({ type: "Rejected", message: "no" });
  });
});

describe("tqd enqueue typo guard and fairness key", () => {
  it("prints the server's warning on stderr for a queue no worker polled, leaving stdout as it was", async () => {
    await using server = await startTestServer();
    const typo = await tqd(server.url, enqueue, ["emials", "greet", "--id", "t1"]);
    expect(typo).toMatchObject({ code: EXIT.ok, stdout: "t1\n" });
    expect(typo.stderr).toMatch(/^warning: .*emials.*\n$/);
    await server.client.poll("emails", { identity: "w", types: ["greet"], waitMs: 0 });
    expect(await tqd(server.url, enqueue, ["emails", "greet", "--id", "t2"])).toMatchObject({ code: EXIT.ok, stdout: "t2\n", stderr: "" });
  });

  it("sends --fairness-key with the task", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["exports", "build", "--fairness-key", "acme"]);
    expect((await server.client.describe("exports")).fairness).toEqual([expect.objectContaining({ key: "acme", pending: 1 })]);
  });
});

describe("tqd limit", () => {
  it("sets a limit, with the burst defaulting to one second of the rate, and clears it", async () => {
    await using server = await startTestServer();
    expect(await tqd(server.url, limit, ["emails", "--rate", "50/s"])).toEqual({ code: EXIT.ok, stdout: "50/s burst 50\n", stderr: "" });
    expect((await tqd(server.url, limit, ["emails", "--rate", "10/m", "--burst", "3"])).stdout).toBe("10/m burst 3\n");
    expect((await server.client.describe("emails")).rateLimit).toMatchObject({ source: "admin", admin: { burst: 3 } });
    expect((await tqd(server.url, limit, ["emails", "--clear"])).stdout).toBe("no limit\n");
    const json = await tqd(server.url, limit, ["emails", "--clear", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ queue: "emails", limit: null });
  });
});

describe("tqd pause and resume", () => {
  it("stops and restarts dispatch; the paused queue still accepts tasks", async () => {
    await using server = await startTestServer();
    expect(await tqd(server.url, pause, ["q"])).toEqual({ code: EXIT.ok, stdout: "paused\n", stderr: "" });
    await tqd(server.url, enqueue, ["q", "greet", "--id", "held"]);
    expect(await server.client.poll("q", { identity: "w", types: ["greet"], waitMs: 0 })).toEqual([]);
    expect((await tqd(server.url, explain, ["held", "--json"])).stdout).toMatch(/"reason":"paused"/);
    expect((await tqd(server.url, describeQueue, ["q"])).stdout).toContain("\npaused true\n");
    expect(await tqd(server.url, resume, ["q"])).toEqual({ code: EXIT.ok, stdout: "resumed\n", stderr: "" });
    expect(await server.client.poll("q", { identity: "w", types: ["greet"], waitMs: 0 })).toHaveLength(1);
  });
});

describe("tqd fairness", () => {
  it("sets a key's weight and rate, prints KEY WEIGHT RATE PENDING, and clears the rate", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["exports", "build", "--fairness-key", "acme"]);
    expect(await tqd(server.url, fairness, ["exports", "--key", "acme", "--weight", "3", "--key-rate", "5/s"])).toEqual({
      code: EXIT.ok,
      stdout: "acme 3 5/s 1\n",
      stderr: "",
    });
    expect((await tqd(server.url, fairness, ["exports", "--key", "acme", "--clear-rate"])).stdout).toBe("acme 3 - 1\n");
  });
});

describe("tqd describe", () => {
  it("prints stable plain lines with the pollers, their types and what no poller handles", async () => {
    await using server = await startTestServer();
    await server.client.enqueueBatch("q", [{ type: "greet" }, { type: "resize" }]);
    await server.client.poll("q", { identity: "w1", types: ["greet"], waitMs: 0, max: 1, host: "web-1", queueRate: "5/s" });
    await server.client.poll("q", { identity: "w2", types: ["greet", "crop"], waitMs: 0, max: 1 });
    const result = await tqd(server.url, describeQueue, ["q"]);
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 4)).toEqual(["queue q", "paused false", "scheduled 0", "pending 1"]);
    expect(lines).toContain("backlog 1");
    expect(lines).toContain("addedLastMinute 2");
    expect(lines).toContain("dispatchedLastMinute 1");
    expect(lines).toContain("rateLimit 5/s 5 poller w1");
    expect(lines).toContain("pollerTypesDiffer true");
    expect(lines).toContain("typeWithoutPoller resize");
    expect(lines.find((line) => line.startsWith("poller w1 "))).toMatch(/^poller w1 web-1 \d+ false \S+Z 5\/s greet$/);
    expect(lines.find((line) => line.startsWith("poller w2 "))).toMatch(/^poller w2 - \d+ false \S+Z - greet,crop$/);
  });

  it("prints the server's answer with --json and sections on a terminal", async () => {
    await using server = await startTestServer();
    await tqd(server.url, pause, ["q"]);
    const json = JSON.parse((await tqd(server.url, describeQueue, ["q", "--json"])).stdout);
    expect(json).toMatchObject({ name: "q", paused: true, pollers: [] });
    const human = (await tqd(server.url, describeQueue, ["q"], { isTTY: true })).stdout;
    expect(human).toMatch(/^queue: +q {2}PAUSED/);
    expect(human).toContain("pollers: none\n");
  });
});

describe("tqd explain", () => {
  it("prints one line naming what the task waits for, with the end of the wait", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["q", "greet", "--id", "later", "--delay", "1h"]);
    const result = await tqd(server.url, explain, ["later"]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^[^\n]+ \(until \d{4}-\d\d-\d\dT[^)]+\)\n$/);
    expect(JSON.parse((await tqd(server.url, explain, ["later", "--json"])).stdout)).toMatchObject({ id: "later", state: "scheduled", reason: "delay" });
  });

  it("exits 1 with not_found for an unknown id", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, explain, ["nope"]);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/^error: not_found: /);
  });
});

describe("tqd queues --prefix", () => {
  it("lists only the queues whose name starts with the prefix", async () => {
    await using server = await startTestServer();
    await server.client.enqueue("team-a/jobs", { type: "t" });
    await server.client.enqueue("team-b/jobs", { type: "t" });
    const result = await tqd(server.url, queues, ["--prefix", "team-a"]);
    expect(result.stdout).toBe("team-a/jobs 1 0 0 0 0 0 0 0\n");
    expect((await tqd(server.url, queues, ["--prefix", "nothing"], { isTTY: true })).stdout).toBe("no queues starting with nothing\n");
  });
});

/** Makes `queue` look served: a live poller, as the route guard wants of a rule's target. */
async function pollOnce(client: TqdClient, queue: string): Promise<void> {
  await client.poll(queue, { identity: "test-worker", types: ["greet"], waitMs: 0 });
}

/** Re-reads the task until `check` holds, failing after `deadlineMs` of real time. */
async function taskUntil(client: TqdClient, id: string, check: (queue: string) => boolean, deadlineMs = 10_000) {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    const task = await client.getTask(id);
    if (check(task.queue)) return task;
    if (Date.now() > giveUpAt) throw new Error(`task ${id} is still on ${task.queue}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("tqd enqueue routing flags", () => {
  it("sends --header as the task's headers", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["images", "greet", "--id", "h1", "--header", "tenant=acme", "--header", "expr=a=b"]);
    expect(JSON.parse((await tqd(server.url, get, ["h1", "--json"])).stdout)).toMatchObject({ headers: { tenant: "acme", expr: "a=b" } });
  });

  it("moves a task no worker starts on a host queue to the base queue after --fallback-after", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, enqueue, ["files@host:gone", "greet", "--id", "f1", "--fallback-after", "200ms"]);
    expect(result.code).toBe(EXIT.ok);
    await taskUntil(server.client, "f1", (queue) => queue === "files");
    expect((await leaseOne(server.client, "files")).id).toBe("f1");
  });

  it("moves it to --fallback-queue when given", async () => {
    await using server = await startTestServer();
    await tqd(server.url, enqueue, ["files@worker:w-1", "greet", "--id", "f2", "--fallback-after", "200ms", "--fallback-queue", "elsewhere"]);
    await taskUntil(server.client, "f2", (queue) => queue === "elsewhere");
  });

  it("notes on a terminal where a traffic rule sent the task, and keeps stdout to the id in pipes", async () => {
    await using server = await startTestServer();
    await pollOnce(server.client, "images-acme");
    await pollOnce(server.client, "images");
    await tqd(server.url, route, ["add", "images", "--to", "images-acme", "--header", "tenant=acme"]);
    const piped = await tqd(server.url, enqueue, ["images", "greet", "--id", "p1", "--header", "tenant=acme"]);
    expect(piped).toEqual({ code: EXIT.ok, stdout: "p1\n", stderr: "" });
    const shown = await tqd(server.url, enqueue, ["images", "greet", "--id", "p2", "--header", "tenant=acme"], { isTTY: true });
    expect(shown.stdout).toBe("p2\n");
    expect(shown.stderr).toContain("sent task p2 to images-acme");
    expect((await server.client.getTask("p1")).queue).toBe("images-acme");
  });
});

describe("tqd route", () => {
  it("adds rules in order, lists them with stats, and dry-runs where a task would go", async () => {
    await using server = await startTestServer();
    await pollOnce(server.client, "images-acme");
    await pollOnce(server.client, "images-canary");
    const first = await tqd(server.url, route, ["add", "images", "--to", "images-acme", "--header", "tenant=acme"]);
    expect(first).toMatchObject({ code: EXIT.ok, stderr: "" });
    const firstId = first.stdout.trim();
    const second = await tqd(server.url, route, ["add", "images", "--to", "images-canary", "--type", "resize*", "--percent", "100", "--fallback-after", "1m"]);
    const secondId = second.stdout.trim();
    expect(secondId).not.toBe(firstId);
    await server.client.enqueue("images", { type: "greet", headers: { tenant: "acme" } });
    const listed = (await tqd(server.url, route, ["ls", "images"])).stdout.split("\n");
    expect(listed[0]).toBe("version 2");
    expect(listed[1]).toBe(`rule ${firstId} images-acme - tenant=acme 100 - 30s 1 0 0 1`);
    expect(listed[2]).toBe(`rule ${secondId} images-canary resize* - 100 - 1m 0 0 0 0`);
    const human = (await tqd(server.url, route, ["ls", "images"], { isTTY: true })).stdout;
    expect(human).toContain("images: 2 routing rules (version 2)");
    expect(JSON.parse((await tqd(server.url, route, ["ls", "images", "--json"])).stdout)).toMatchObject({ queue: "images", version: 2 });
    expect((await tqd(server.url, route, ["test", "images", "--type", "resize.small"])).stdout).toBe(`images-canary ${secondId} 1m\n`);
    expect((await tqd(server.url, route, ["test", "images", "--type", "crop", "--header", "tenant=acme"])).stdout).toBe(`images-acme ${firstId} 30s\n`);
    expect((await tqd(server.url, route, ["test", "images", "--type", "crop"])).stdout).toBe("images - -\n");
  });

  it("refuses a target nobody polls unless --force", async () => {
    await using server = await startTestServer();
    const refused = await tqd(server.url, route, ["add", "images", "--to", "nobody-home"]);
    expect(refused.code).toBe(EXIT.failure);
    expect(refused.stderr).toMatch(/^error: conflict: .*no live poller/);
    const forced = await tqd(server.url, route, ["add", "images", "--to", "nobody-home", "--force"]);
    expect(forced.code).toBe(EXIT.ok);
  });

  it("refuses a change based on a stale --expect-version with a 409", async () => {
    await using server = await startTestServer();
    expect((await tqd(server.url, route, ["add", "q", "--to", "a", "--force", "--expect-version", "0"])).code).toBe(EXIT.ok);
    const stale = await tqd(server.url, route, ["add", "q", "--to", "b", "--force", "--expect-version", "0"]);
    expect(stale.code).toBe(EXIT.failure);
    expect(stale.stderr).toMatch(/^error: conflict: /);
    const ruleId = JSON.parse((await tqd(server.url, route, ["ls", "q", "--json"])).stdout).rules[0].id as string;
    expect((await tqd(server.url, route, ["rm", "q", ruleId, "--expect-version", "0"])).code).toBe(EXIT.failure);
    expect((await tqd(server.url, route, ["rollback", "q", "0", "--expect-version", "7"])).code).toBe(EXIT.failure);
    expect((await tqd(server.url, route, ["ls", "q"])).stdout).toMatch(/^version 1\n/);
  });

  it("removes a rule, lists the history, and rolls back to an earlier version as a new one", async () => {
    await using server = await startTestServer();
    const ruleId = (await tqd(server.url, route, ["add", "q", "--to", "a", "--force"])).stdout.trim();
    expect(await tqd(server.url, route, ["rm", "q", ruleId])).toEqual({ code: EXIT.ok, stdout: "2\n", stderr: "" });
    const missing = await tqd(server.url, route, ["rm", "q", ruleId]);
    expect(missing.code).toBe(EXIT.failure);
    expect(missing.stderr).toMatch(/^error: not_found: /);
    const history = (await tqd(server.url, route, ["history", "q"])).stdout.trim().split("\n");
    expect(history).toHaveLength(2);
    expect(history[0]).toMatch(new RegExp(`^1 \\d{4}-\\d\\d-\\d\\dT\\S+ 1 add ${ruleId}`));
    expect(history[1]).toMatch(/^2 \S+ 0 remove /);
    expect(await tqd(server.url, route, ["rollback", "q", "1", "--force"])).toEqual({ code: EXIT.ok, stdout: "3\n", stderr: "" });
    expect((await tqd(server.url, route, ["ls", "q"])).stdout).toMatch(new RegExp(`^version 3\nrule ${ruleId} a `));
    const human = await tqd(server.url, route, ["rollback", "q", "0"], { isTTY: true });
    expect(human.stdout).toBe("rolled back to the rules of version 0; q is now at routing version 4 with 0 rules\n");
  });
});
