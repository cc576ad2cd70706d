/**
 * The stream (`GET /v1/worker/stream`) against a real server on a socket: the raw protocol
 * (frames, refs, errors, cancel, enqueue, a socket that goes away), the WorkerStream client,
 * StreamingWorkerClient's fallback to HTTP on a server without the stream, and TqdClient's
 * `transport: "stream"` for producers.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { FrameTooLargeError, STREAM_FRAME_MAX_CHARS, StreamUnavailableError, TqdApiError, TqdClient, WorkerStream } from "../../lib/client/index.ts";
import type { LeasedTask } from "../../lib/protocol/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { StreamingWorkerClient } from "../../lib/worker/index.ts";
import { ERROR_CODES, errorBodySchema } from "../../lib/protocol/index.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const POLL = { identity: "w1", types: ["t"], max: 10, waitMs: 0 };

/** A raw socket on the stream with its frames collected, for protocol-level checks. */
async function rawSocket(server: TestServer, token?: string) {
  const socket = new WebSocket(server.url.replace("http", "ws") + "/v1/worker/stream", { headers: token ? { authorization: `Bearer ${token}` } : {} } as unknown as string[]);
  const frames: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  let closed: { code: number; reason: string } | undefined;
  socket.onmessage = (event) => {
    frames.push(JSON.parse(String(event.data)) as Record<string, unknown>);
    waiting.splice(0).forEach((wake) => wake());
  };
  socket.onclose = (event) => {
    closed = { code: event.code, reason: event.reason };
    waiting.splice(0).forEach((wake) => wake());
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("stream did not open"));
  });
  /** Waits (with a deadline) until `ready()` holds, re-checking at every frame or close. */
  const until = async <T>(ready: () => T | undefined, what: string): Promise<T> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames)}`);
      await new Promise<void>((wake) => {
        waiting.push(wake);
        setTimeout(wake, 100);
      });
    }
  };
  return {
    send: (frame: unknown) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    answer: (ref: number) => until(() => frames.find((frame) => frame.ref === ref), `the answer to ref ${ref}`),
    closed: () => until(() => closed, "the socket to close"),
    close: () => socket.close(),
    frames,
  };
}

const streamsOpen = async (server: TestServer) => /^tqd_worker_streams (\d+)$/m.exec(await (await fetch(server.url + "/metrics")).text())?.[1];

async function enqueue(server: TestServer, n: number): Promise<string[]> {
  const answer = await server.client.enqueueBatch("q", Array.from({ length: n }, (_, i) => ({ type: "t", input: { i } })));
  return answer.tasks.map((task) => task.id);
}

describe("worker stream: the protocol", () => {
  test("poll and batched complete answer with the HTTP routes' status and body, matched by ref", async () => {
    await using server = await startTestServer();
    const ids = await enqueue(server, 3);
    const socket = await rawSocket(server);
    socket.send({ op: "poll", ref: 7, queue: "q", body: POLL });
    const polled = await socket.answer(7);
    expect(polled).toMatchObject({ ref: 7, status: 200 });
    const tasks = (polled.body as { tasks: LeasedTask[] }).tasks;
    expect(tasks.map((task) => task.id)).toEqual(ids);
    expect(tasks[0]).toMatchObject({ queue: "q", type: "t", input: { i: 0 }, attempt: 1 });

    const commitsBefore = server.daemon.storeStats().commits;
    socket.send({ op: "complete", ref: 8, body: { completions: [...tasks.map((task) => ({ id: task.id, leaseToken: task.leaseToken, result: "ok" })), { id: "no-such-task", leaseToken: "x" }] } });
    const settled = await socket.answer(8);
    expect(settled).toMatchObject({ ref: 8, status: 200 });
    expect((settled.body as { results: unknown[] }).results).toEqual([
      ...ids.map((id) => ({ id, state: "completed" })),
      { id: "no-such-task", error: { code: "not_found", message: expect.stringContaining("no-such-task") } },
    ]);
    expect(server.daemon.storeStats().commits - commitsBefore).toBe(1);
    expect(await server.client.getTask(ids[0]!)).toMatchObject({ state: "completed", result: "ok" });
    socket.close();
  });

  test("settles over the stream are patient (the worker freed their slots when it sent them), over HTTP they are not", async () => {
    await using server = await startTestServer();
    await enqueue(server, 2);
    const patience: (boolean | undefined)[] = [];
    const settleMany = server.daemon.settleMany.bind(server.daemon);
    server.daemon.settleMany = (commands, options) => (patience.push(options?.patient), settleMany(commands, options));
    const stream = new WorkerStream({ baseUrl: server.url });
    const [a, b] = await stream.poll("q", { ...POLL, max: 2 });
    await stream.settleBatch([{ id: a!.id, leaseToken: a!.leaseToken }]);
    await server.client.settleBatch([{ id: b!.id, leaseToken: b!.leaseToken }]);
    expect(patience).toEqual([true, false]);
    stream.close();
  });

  test("calls overlap: a parked poll does not hold up a settle sent after it", async () => {
    await using server = await startTestServer();
    const [first] = await enqueue(server, 1);
    const socket = await rawSocket(server);
    socket.send({ op: "poll", ref: 1, queue: "q", body: POLL });
    const [task] = ((await socket.answer(1)).body as { tasks: LeasedTask[] }).tasks;
    socket.send({ op: "poll", ref: 2, queue: "q", body: { ...POLL, waitMs: 30_000 } });
    socket.send({ op: "complete", ref: 3, body: { completions: [{ id: task!.id, leaseToken: task!.leaseToken }] } });
    expect((await socket.answer(3)).status).toBe(200);
    expect(socket.frames.some((frame) => frame.ref === 2)).toBe(false);
    expect((await server.client.getTask(first!)).state).toBe("completed");
    // The parked poll takes the next task as soon as it is enqueued.
    const [next] = await enqueue(server, 1);
    const answer = await socket.answer(2);
    expect((answer.body as { tasks: LeasedTask[] }).tasks.map((t) => t.id)).toEqual([next]);
    socket.close();
  });

  test("cancel answers a parked poll empty, and a later task stays pending", async () => {
    await using server = await startTestServer();
    const socket = await rawSocket(server);
    socket.send({ op: "poll", ref: 1, queue: "q", body: { ...POLL, waitMs: 30_000 } });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    socket.send({ op: "cancel", ref: 1 });
    expect(await socket.answer(1)).toEqual({ ref: 1, status: 200, body: { tasks: [] } });
    const [id] = await enqueue(server, 1);
    expect((await server.client.getTask(id!)).state).toBe("pending");
    socket.close();
  });

  test("a socket that closes withdraws its parked polls: nothing is leased to it afterwards; /metrics counts open streams", async () => {
    await using server = await startTestServer();
    const streamsOpen = async () => /^tqd_worker_streams (\d+)$/m.exec(await (await fetch(server.url + "/metrics")).text())?.[1];
    expect(await streamsOpen()).toBe("0");
    const socket = await rawSocket(server);
    expect(await streamsOpen()).toBe("1");
    socket.send({ op: "poll", ref: 1, queue: "q", body: { ...POLL, waitMs: 30_000 } });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    socket.close();
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(0);
    await expect.poll(streamsOpen, { timeout: 5_000 }).toBe("0");
    const [id] = await enqueue(server, 1);
    expect((await server.client.getTask(id!)).state).toBe("pending");
  });

  test("enqueue and enqueueBatch answer with the HTTP routes' status and body, after the commit", async () => {
    await using server = await startTestServer();
    const socket = await rawSocket(server);
    const commitsBefore = server.daemon.storeStats().commits;
    socket.send({ op: "enqueue", ref: 1, queue: "q", body: { type: "t", input: { n: 1 } } });
    const created = await socket.answer(1);
    expect(created).toMatchObject({ ref: 1, status: 201, body: { queue: "q", type: "t", state: "pending", created: true } });
    expect(server.daemon.storeStats().commits).toBeGreaterThan(commitsBefore);
    const id = (created.body as { id: string }).id;
    expect(await server.client.getTask(id)).toMatchObject({ id, state: "pending", input: { n: 1 } });

    // The same id again: 200 and the task that is there, as over HTTP.
    const overHttp = await fetch(server.url + "/v1/queues/q/tasks", { method: "POST", body: JSON.stringify({ type: "t", id: "job-1", priority: 1 }) });
    expect(overHttp.status).toBe(201);
    socket.send({ op: "enqueue", ref: 2, queue: "q", body: { type: "t", id: "job-1", priority: 1 } });
    expect(await socket.answer(2)).toMatchObject({ status: 200, body: { id: "job-1", created: false } });

    socket.send({ op: "enqueueBatch", ref: 3, queue: "q", body: { tasks: [{ type: "t" }, { type: "t", id: "job-1" }, { type: "u", delay: "1h" }] } });
    const batch = await socket.answer(3);
    expect(batch).toMatchObject({ status: 201, body: { tasks: [{ created: true, state: "pending" }, { id: "job-1", created: false }, { type: "u", created: true, state: "scheduled" }] } });
    // No worker has polled q yet: the typo guard's warning comes once for the batch, as over HTTP.
    const batchBody = batch.body as { tasks: Record<string, unknown>[]; warning?: string };
    expect(batchBody.warning).toContain('queue "q"');
    expect(batchBody.tasks.filter((task) => "warning" in task)).toEqual([]);
    expect((created.body as { warning?: string }).warning).toContain('queue "q"');
    socket.send({ op: "enqueueBatch", ref: 4, queue: "q", body: { tasks: [{ type: "t", id: "job-1" }] } });
    expect(await socket.answer(4)).toMatchObject({ status: 200 });

    // Errors as over HTTP, the field named; the socket stays open.
    socket.send({ op: "enqueue", ref: 5, queue: "q", body: { type: "bad type" } });
    expect(await socket.answer(5)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("body.type") } } });
    socket.send({ op: "enqueue", ref: 6, queue: "bad queue!", body: { type: "t" } });
    expect(await socket.answer(6)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("invalid queue name") } } });
    socket.send({ op: "enqueue", ref: 7, queue: "q", body: { type: "t", fallbackAfter: "5s" } });
    expect(await socket.answer(7)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("fallbackQueue") } } });
    socket.send({ op: "enqueueBatch", ref: 8, queue: "q", body: { tasks: [] } });
    expect(await socket.answer(8)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("tasks") } } });
    socket.send({ op: "enqueue", ref: 9, queue: "q", body: { type: "t", id: "job-1", ifExists: "reject" } });
    socket.send({ op: "poll", ref: 10, queue: "q", body: { ...POLL, max: 10 } });
    const polled = await socket.answer(10);
    expect((polled.body as { tasks: LeasedTask[] }).tasks.map((task) => task.id)).toContain(id);
    expect((await socket.answer(9)).status).toBe(200);
    expect(await server.client.describe("q")).toMatchObject({ counts: { scheduled: 1 } });
    socket.close();
  });

  test("get answers with the task route's body; with waitMs it answers when the task ends; the wait ends when the socket closes", async () => {
    const errors: string[] = [];
    await using server = await startTestServer({ log: { ...silentLogger, error: (message: string) => errors.push(message) } });
    const [id] = await enqueue(server, 1);
    const socket = await rawSocket(server);
    socket.send({ op: "get", ref: 1, id });
    const viaHttp = await (await fetch(`${server.url}/v1/tasks/${id}`)).json();
    expect(await socket.answer(1)).toEqual({ ref: 1, status: 200, body: viaHttp });
    socket.send({ op: "get", ref: 2, id, waitMs: 30_000 });
    socket.send({ op: "poll", ref: 3, queue: "q", body: POLL });
    const [task] = ((await socket.answer(3)).body as { tasks: LeasedTask[] }).tasks;
    expect(socket.frames.some((frame) => frame.ref === 2)).toBe(false);
    socket.send({ op: "complete", ref: 4, body: { completions: [{ id: task!.id, leaseToken: task!.leaseToken, result: { ok: 1 } }] } });
    expect(await socket.answer(2)).toMatchObject({ status: 200, body: { id, state: "completed", result: { ok: 1 } } });

    socket.send({ op: "get", ref: 5, id: "no-such-task" });
    expect(await socket.answer(5)).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    socket.send({ op: "get", ref: 6, id: "bad id!" });
    expect(await socket.answer(6)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("invalid task id") } } });
    socket.send({ op: "get", ref: 7, id, waitMs: 60_001 });
    expect(await socket.answer(7)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("waitMs") } } });

    const [other] = await enqueue(server, 1);
    socket.send({ op: "get", ref: 8, id: other, waitMs: 30_000 });
    await expect.poll(() => server.daemon.taskWaiting(), { timeout: 5_000 }).toBe(1);
    socket.close();
    await expect.poll(() => server.daemon.taskWaiting(), { timeout: 5_000 }).toBe(0);
    expect(errors).toEqual([]);
  });

  test("a frame whose body is over --max-body gets a 413 for its ref, as over HTTP; without a ref it closes the socket (1009)", async () => {
    await using server = await startTestServer({ maxBodyBytes: 4096 });
    const socket = await rawSocket(server);
    // The body 4,096 bytes exactly: the frame around it is larger, and that is allowed.
    socket.send({ op: "enqueue", ref: 1, queue: "q", body: { type: "t", input: "x".repeat(4096 - '{"type":"t","input":""}'.length) } });
    expect(await socket.answer(1)).toMatchObject({ status: 201 });
    socket.send({ op: "enqueue", ref: 2, queue: "q", body: { type: "t", input: "é".repeat(2_100) } });
    expect(await socket.answer(2)).toMatchObject({ status: 413, body: { error: { code: "payload_too_large", message: expect.stringContaining("4096 bytes") } } });
    socket.send({ op: "enqueueBatch", ref: 3, queue: "q", body: { tasks: [{ type: "t", input: "x".repeat(6_000) }] } });
    expect(await socket.answer(3)).toMatchObject({ status: 413 });
    socket.send({ op: "poll", ref: 4, queue: "q", body: POLL });
    expect(await socket.answer(4)).toMatchObject({ status: 200 });
    expect(await server.client.describe("q")).toMatchObject({ counts: { pending: 0, running: 1 } });
    socket.send({ op: "enqueue", queue: "q", body: { type: "t", input: "x".repeat(6_000) } });
    expect(await socket.closed()).toMatchObject({ code: 1009 });
  });

  test("bad frames: a refless or unparsable frame closes the socket (1007), a ref used twice too (1008); a bad call with a ref gets a 400 and the socket stays", async () => {
    await using server = await startTestServer();
    const socket = await rawSocket(server);
    socket.send({ op: "poll", ref: 1, queue: "q", body: { identity: "w1", types: [], max: 0 } });
    const invalid = await socket.answer(1);
    expect(invalid).toMatchObject({ ref: 1, status: 400, body: { error: { code: "invalid_argument", message: expect.stringMatching(/body\.types|body\.max/) } } });
    socket.send({ op: "poll", ref: 2, queue: "bad queue!", body: POLL });
    expect(await socket.answer(2)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("invalid queue name") } } });
    socket.send({ op: "explode", ref: 3 });
    expect(await socket.answer(3)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument" } } });
    socket.send({ op: "complete", ref: 4, body: { completions: [] } });
    expect(await socket.answer(4)).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("completions") } } });
    // Still open: a good call works.
    socket.send({ op: "poll", ref: 5, queue: "q", body: POLL });
    expect(await socket.answer(5)).toMatchObject({ status: 200, body: { tasks: [] } });
    for (const frame of socket.frames) expect(JSON.stringify(frame)).not.toMatch(/at .*\.ts|sqlite|SELECT/i);

    socket.send("{not json");
    expect(await socket.closed()).toMatchObject({ code: 1007 });
    const second = await rawSocket(server);
    second.send({ op: "poll", queue: "q", body: POLL });
    expect(await second.closed()).toMatchObject({ code: 1007, reason: expect.stringContaining("ref") });
    // A second poll under a ref still in flight: its answer would pass for the first one's.
    const third = await rawSocket(server);
    third.send({ op: "poll", ref: 9, queue: "q", body: { ...POLL, waitMs: 30_000 } });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    third.send({ op: "poll", ref: 9, queue: "q", body: POLL });
    expect(await third.closed()).toMatchObject({ code: 1008, reason: expect.stringContaining("ref 9") });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(0);
  });

  test("the upgrade needs the bearer token when the server has one; a plain GET is a JSON 400", async () => {
    await using server = await startTestServer({ token: "s3cret" });
    const refused = new WorkerStream({ baseUrl: server.url, token: "wrong" });
    await expect(refused.poll("q", POLL)).rejects.toBeInstanceOf(StreamUnavailableError);
    const stream = new WorkerStream({ baseUrl: server.url, token: "s3cret" });
    expect(await stream.poll("q", POLL)).toEqual([]);
    stream.close();
    const unauthorized = await fetch(server.url + "/v1/worker/stream");
    expect(unauthorized.status).toBe(401);
    const plain = await fetch(server.url + "/v1/worker/stream", { headers: { authorization: "Bearer s3cret" } });
    expect(plain.status).toBe(400);
    expect(await plain.json()).toMatchObject({ error: { code: "invalid_argument", message: expect.stringContaining("WebSocket") } });
  });
});

describe("worker stream: fuzzed frames", () => {
  test("random frames never get a 500 or an unknown error shape, close only with 1007/1008, and leave the daemon working", async () => {
    await using server = await startTestServer();
    await enqueue(server, 20);
    const random = seededRandom(6);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const values: unknown[] = [null, true, -1, 0, 1, 2.5, 1e300, "", "q", "t", "bad queue!", "x".repeat(300), [], ["t"], [1], {}, { a: 1 }, "\u0000"];
    const bodyKeys = ["waitMs", "identity", "types", "max", "waitMs", "host", "queueRate", "completions", "id", "leaseToken", "result", "error", "extra", "type", "input", "tasks", "priority", "delay", "ifExists"];
    const frameOf = (ref: number): unknown => {
      const body: Record<string, unknown> = { identity: "w1", types: ["t"], waitMs: 0 };
      for (let k = Math.floor(random() * 4); k > 0; k--) body[pick(bodyKeys)] = pick(values);
      if (random() < 0.3) body.completions = [{ id: pick(["no-such", "", 5]), leaseToken: pick(["x", "", null]), ...(random() < 0.5 ? { error: pick(values) } : {}) }];
      if (random() < 0.3) body.type = pick(["t", "bad type", "", 5]);
      if (random() < 0.15) body.tasks = [{ type: pick(["t", "bad type", 5]), ...(random() < 0.5 ? { input: pick(values) } : {}) }];
      const frame: Record<string, unknown> = { op: pick(["poll", "complete", "cancel", "enqueue", "enqueueBatch", "get", "explode", 7]), ref, queue: pick(["q", "bad queue!", "", 3]), body: random() < 0.1 ? pick(values) : body };
      if (random() < 0.3) frame.id = pick(["no-such", "bad id!", "", 5, null]);
      if (random() < 0.2) frame.waitMs = pick([0, 1, -1, 60_001, 2.5, "10"]);
      if (random() < 0.1) delete frame[pick(["op", "queue", "body"])];
      return frame;
    };
    let socket = await rawSocket(server);
    let answers = 0;
    for (let i = 0; i < 400; i++) {
      const ref = 1000 + i;
      socket.send(frameOf(ref));
      // Every call answers, except a cancel (it has no answer of its own).
      const answer = await Promise.race([socket.answer(ref), socket.closed().then((closed) => ({ closed }))]).catch(() => undefined);
      if (answer && "closed" in answer) {
        expect([1007, 1008]).toContain((answer.closed as { code: number }).code);
        socket = await rawSocket(server);
        continue;
      }
      if (!answer) continue;
      answers++;
      expect(answer.status as number, JSON.stringify(answer)).toBeLessThan(500);
      if ((answer.status as number) >= 400) {
        const parsed = errorBodySchema.safeParse(answer.body);
        expect(parsed.success, JSON.stringify(answer)).toBe(true);
        expect(ERROR_CODES).toContain(parsed.data?.error.code);
        expect(parsed.data?.error.message).not.toMatch(/at .*\.ts|sqlite|SELECT/i);
      }
    }
    expect(answers).toBeGreaterThan(200);
    socket.send({ op: "poll", ref: 1, queue: "q", body: { ...POLL, max: 100 } });
    expect((await socket.answer(1)).status).toBe(200);
    socket.close();
  });
});

describe("worker stream: the clients", () => {
  test("WorkerStream: overlapping polls and settles, API errors as TqdApiError, a stopping server answers parked polls and then is unreachable", async () => {
    await using server = await startTestServer();
    const ids = await enqueue(server, 4);
    const stream = new WorkerStream({ baseUrl: server.url });
    const [a, b] = await Promise.all([stream.poll("q", { ...POLL, max: 2 }), stream.poll("q", { ...POLL, max: 2 })]);
    expect([...a, ...b].map((task) => task.id).sort()).toEqual([...ids].sort());
    const results = await stream.settleBatch([...a, ...b].map((task) => ({ id: task.id, leaseToken: task.leaseToken })));
    expect(results.every((result) => "state" in result && result.state === "completed")).toBe(true);
    await expect(stream.poll("bad queue!", POLL)).rejects.toBeInstanceOf(TqdApiError);
    // The daemon stops: the parked poll is answered empty before the stream closes, and the next call finds nobody.
    const parked = stream.poll("q", { ...POLL, waitMs: 30_000 });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    await server.stop();
    expect(await parked).toEqual([]);
    await expect(stream.poll("q", POLL)).rejects.toMatchObject({ name: "TqdUnreachableError" });
    stream.close();
  });

  test("WorkerStream: a settle frame too large for the stream is refused before sending, and the calls in flight go on", async () => {
    await using server = await startTestServer();
    const [id] = await enqueue(server, 1);
    const stream = new WorkerStream({ baseUrl: server.url });
    const [task] = await stream.poll("q", POLL);
    const parked = stream.poll("q", { ...POLL, waitMs: 30_000 });
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    // Over twice --max-body: sent, it would close the socket under the parked poll.
    const huge = "x".repeat(2 * (1 << 20) + 100_000);
    await expect(stream.settleBatch([{ id: task!.id, leaseToken: task!.leaseToken, result: huge }])).rejects.toBeInstanceOf(FrameTooLargeError);
    expect(await stream.settleBatch([{ id: task!.id, leaseToken: task!.leaseToken, result: "small" }])).toEqual([{ id, state: "completed" }]);
    const [next] = await enqueue(server, 1);
    expect((await parked).map((leased) => leased.id)).toEqual([next]);
    stream.close();
  });

  test("an aborted poll is withdrawn: the call fails at once and its task stays pending", async () => {
    await using server = await startTestServer();
    const stream = new WorkerStream({ baseUrl: server.url });
    const abort = new AbortController();
    const parked = stream.poll("q", { ...POLL, waitMs: 30_000 }, abort.signal);
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(1);
    abort.abort();
    await expect(parked).rejects.toBeDefined();
    await expect.poll(() => server.daemon.pollersWaiting(), { timeout: 5_000 }).toBe(0);
    const [id] = await enqueue(server, 1);
    expect((await server.client.getTask(id!)).state).toBe("pending");
    stream.close();
  });

  test("StreamingWorkerClient uses HTTP on a server without the stream, and the stream where there is one", async () => {
    await using old = await startTestServer({ noStream: true });
    await using current = await startTestServer();
    for (const server of [old, current]) {
      const [id] = await enqueue(server, 1);
      const lines: string[] = [];
      const log = { ...silentLogger, info: (message: string) => lines.push(message) };
      const client = new StreamingWorkerClient(new TqdClient({ baseUrl: server.url, transportRetries: 0 }), log);
      const [task] = await client.poll("q", POLL);
      expect(task!.id).toBe(id);
      expect(await client.settleBatch([{ id: task!.id, leaseToken: task!.leaseToken }])).toEqual([{ id, state: "completed" }]);
      expect(lines.some((line) => line.includes("refused the worker stream"))).toBe(server === old);
      // Outcomes free their slots when sent only on the stream (see SlotPool.reserve).
      expect(client.ordersOutcomes()).toBe(server === current);
      client.close();
    }
  });

  test("TqdClient with transport stream: enqueues over the stream, everything else over HTTP; errors as over HTTP", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url, transport: "stream" });
    const framesBefore = server.received();
    const one = await client.enqueue("q", { type: "t", input: { n: 1 } });
    expect(one).toMatchObject({ queue: "q", type: "t", state: "pending", created: true });
    // The upgrade and the frame.
    expect(server.received() - framesBefore).toBe(2);
    const many = await client.enqueueBatch("q", [{ type: "t" }, { type: "t", id: one.id }]);
    expect(many.tasks.map((task) => task.created)).toEqual([true, false]);
    expect(server.received() - framesBefore).toBe(3);
    expect(await streamsOpen(server)).toBe("1");
    await expect(client.enqueue("q", { type: "bad type" })).rejects.toMatchObject({ name: "TqdApiError", status: 400, code: "invalid_argument" });
    expect((await client.getTask(one.id)).state).toBe("pending");
    client.close();
    await expect.poll(() => streamsOpen(server), { timeout: 5_000 }).toBe("0");
    // Closed: the client goes on over HTTP.
    expect((await client.enqueue("q", { type: "t" })).created).toBe(true);
    expect(await streamsOpen(server)).toBe("0");
  });

  test("TqdClient with transport stream: getTask waits over the stream; an aborted wait fails at once and the stream goes on", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url, transport: "stream" });
    const { id } = await client.enqueue("q", { type: "t" });
    const before = server.received();
    const waiting = client.getTask(id, { waitMs: 30_000 });
    const [task] = await server.client.poll("q", POLL);
    await server.client.complete(task!.id, task!.leaseToken, "done");
    expect(await waiting).toMatchObject({ id, state: "completed", result: "done" });
    // The frame; the poll and the complete are the test's own HTTP requests.
    expect(server.received() - before).toBe(3);

    const { id: second } = await client.enqueue("q", { type: "t" });
    const abort = new AbortController();
    const aborted = client.getTask(second, { waitMs: 30_000, signal: abort.signal });
    await expect.poll(() => server.daemon.taskWaiting(), { timeout: 5_000 }).toBe(1);
    abort.abort();
    await expect(aborted).rejects.toBeDefined();
    expect((await client.getTask(second)).state).toBe("pending");
    client.close();
  });

  test("TqdClient with transport stream: a frame too large for the stream goes over HTTP; a body over --max-body is a 413 either way", async () => {
    await using server = await startTestServer();
    const client = new TqdClient({ baseUrl: server.url, transport: "stream", transportRetries: 0 });
    await client.enqueue("q", { type: "t" });
    const before = server.received();
    const big = "x".repeat(STREAM_FRAME_MAX_CHARS);
    const batch = await client.enqueueBatch("q", [{ type: "t", input: big }, { type: "t" }]);
    expect(batch.tasks.map((task) => task.created)).toEqual([true, true]);
    // One HTTP request, no frame; the stream stays open for the next call.
    expect(server.received() - before).toBe(1);
    expect((await client.enqueue("q", { type: "t" })).created).toBe(true);
    expect(server.received() - before).toBe(2);
    expect(await streamsOpen(server)).toBe("1");
    client.close();

    await using small = await startTestServer({ maxBodyBytes: 4096 });
    const producer = new TqdClient({ baseUrl: small.url, transport: "stream", transportRetries: 0 });
    await expect(producer.enqueue("q", { type: "t", input: "x".repeat(5_000) })).rejects.toMatchObject({ name: "TqdApiError", status: 413, code: "payload_too_large" });
    await expect(producer.enqueue("q", { type: "t", input: big })).rejects.toMatchObject({ name: "TqdApiError", status: 413, code: "payload_too_large" });
    expect((await producer.enqueue("q", { type: "t" })).created).toBe(true);
    producer.close();
  });

  test("a server stopping under producers on the stream: every enqueue it answered is in the store after a restart", async () => {
    await using dir = await tempDir();
    const answered: string[] = [];
    let refused = 0;
    {
      const server = await startTestServer({ dataDir: dir.path });
      const producer = new TqdClient({ baseUrl: server.url, transport: "stream", transportRetries: 0 });
      let stopping: Promise<void> | undefined;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (;;) {
            try {
              answered.push((await producer.enqueue("q", { type: "t" })).id);
            } catch {
              refused++;
              return;
            }
            if (answered.length === 200) stopping = server.stop();
          }
        }),
      );
      await stopping;
      producer.close();
      await server[Symbol.asyncDispose]();
    }
    expect(answered.length).toBeGreaterThanOrEqual(200);
    expect(refused).toBe(8);
    await using again = await startTestServer({ dataDir: dir.path });
    const described = await again.client.describe("q");
    expect(described.counts.pending).toBeGreaterThanOrEqual(answered.length);
    for (const id of answered) expect((await again.client.getTask(id)).state).toBe("pending");
  });

  test("TqdClient with transport stream uses HTTP on a server without the stream", async () => {
    await using old = await startTestServer({ noStream: true });
    const client = new TqdClient({ baseUrl: old.url, transport: "stream", transportRetries: 0 });
    const { id } = await client.enqueue("q", { type: "t" });
    expect((await old.client.getTask(id)).state).toBe("pending");
    expect((await client.enqueueBatch("q", [{ type: "t" }])).tasks).toHaveLength(1);
    client.close();
  });

  test("a producer's stream closes after idleCloseMs without calls, and the next call opens it again", async () => {
    await using server = await startTestServer();
    const stream = new WorkerStream({ baseUrl: server.url, idleCloseMs: 50 });
    await Promise.all([stream.enqueue("q", { type: "t" }), stream.enqueue("q", { type: "t" })]);
    expect(await streamsOpen(server)).toBe("1");
    await expect.poll(() => streamsOpen(server), { timeout: 5_000 }).toBe("0");
    expect((await stream.enqueue("q", { type: "t" })).created).toBe(true);
    expect(await server.client.describe("q")).toMatchObject({ counts: { pending: 3 } });
    stream.close();
  });

  test("a script that enqueues over the stream and never closes its client still exits", async () => {
    await using server = await startTestServer();
    await using dir = await tempDir();
    const script = join(dir.path, "producer.ts");
    const clientModule = resolve(import.meta.dirname, "../../lib/client/index.ts");
    writeFileSync(script, `import { TqdClient } from ${JSON.stringify(clientModule)};\nconst client = new TqdClient({ baseUrl: ${JSON.stringify(server.url)}, transport: "stream" });\nconst { id } = await client.enqueue("q", { type: "t" });\nconsole.log(id);\n`);
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exit = await new Promise<number | null>((done, fail) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        fail(new Error("the producer did not exit within 10 s"));
      }, 10_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        done(code);
      });
    });
    expect(exit).toBe(0);
    expect((await server.client.getTask(out.trim())).state).toBe("pending");
  });
});
