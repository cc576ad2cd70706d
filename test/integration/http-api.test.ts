import { fuzzRequests } from "../support/fuzz-requests.ts";
import { describe, expect, test } from "vitest";
import {
  ERROR_CODES,
  enqueueBatchResponseSchema,
  enqueueResponseSchema,
  errorBodySchema,
  heartbeatResponseSchema,
  pollResponseSchema,
  queueListResponseSchema,
  settleResponseSchema,
  taskViewSchema,
  deadListResponseSchema,
} from "../../lib/protocol/index.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const BASE = "http://tqd.test";

function call(server: TestServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
  if (body !== undefined) init.body = typeof body === "string" ? body : body instanceof Uint8Array ? new Blob([body.slice()]) : JSON.stringify(body);
  return server.fetch(new Request(BASE + path, init));
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = errorBodySchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  expect(body.error.message).not.toMatch(/\.ts\b|node_modules|SELECT|INSERT|\n\s+at /);
  return body.error.message;
}

describe("HTTP API", () => {
  test("enqueue, poll, complete and read a task", async () => {
    await using server = await startTestServer();
    const created = await call(server, "POST", "/v1/queues/emails/tasks", { type: "send", input: { to: "ada@example.com" } });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const polled = await (await call(server, "POST", "/v1/queues/emails/poll", { identity: "w1", types: ["send"], waitMs: 0 })).json();
    expect(polled.tasks).toEqual([expect.objectContaining({ id, input: { to: "ada@example.com" }, attempt: 1 })]);
    const done = await call(server, "POST", `/v1/tasks/${id}/complete`, { leaseToken: polled.tasks[0].leaseToken, result: { sent: true } });
    expect(await done.json()).toEqual({ id, state: "completed" });
    const view = await (await call(server, "GET", `/v1/tasks/${id}`)).json();
    expect(view).toMatchObject({ id, queue: "emails", type: "send", state: "completed", attempt: 1, result: { sent: true }, worker: "w1" });
    const queues = await (await call(server, "GET", "/v1/queues")).json();
    expect(queues.queues).toEqual([{ name: "emails", scheduled: 0, pending: 0, running: 0, completed: 1, failed: 0, canceled: 0, timedOut: 0, pollersWaiting: 0 }]);
  });

  test("every answer matches its protocol schema, with and without optional fields", async () => {
    await using server = await startTestServer();
    const strict = async <T>(response: Response, schema: { parse(v: unknown): T }) => schema.parse(await response.json());
    const bare = await strict(await call(server, "POST", "/v1/queues/q/tasks", { type: "t" }), enqueueResponseSchema);
    await strict(await call(server, "GET", `/v1/tasks/${bare.id}`), taskViewSchema);
    await strict(await call(server, "POST", "/v1/queues/q/tasks/batch", { tasks: [{ type: "t", input: [1] }] }), enqueueBatchResponseSchema);
    const polled = await strict(await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], max: 2, waitMs: 0 }), pollResponseSchema);
    expect(polled.tasks).toHaveLength(2);
    const [first, second] = polled.tasks;
    await strict(await call(server, "GET", `/v1/tasks/${first!.id}`), taskViewSchema);
    await strict(await call(server, "POST", `/v1/tasks/${first!.id}/heartbeat`, { leaseToken: first!.leaseToken, details: { at: 1 } }), heartbeatResponseSchema);
    await strict(await call(server, "POST", `/v1/tasks/${first!.id}/complete`, { leaseToken: first!.leaseToken }), settleResponseSchema);
    await strict(await call(server, "POST", `/v1/tasks/${second!.id}/fail`, { leaseToken: second!.leaseToken, error: { type: "E", message: "m" } }), settleResponseSchema);
    for (const task of polled.tasks) await strict(await call(server, "GET", `/v1/tasks/${task.id}`), taskViewSchema);
    await strict(await call(server, "GET", "/v1/queues"), queueListResponseSchema);
  });

  test("lifecycle options travel through the API and invalid combinations name the field", async () => {
    await using server = await startTestServer();
    const body = {
      type: "t",
      id: "opts",
      priority: 1,
      delay: "1h",
      scheduleToStartTimeout: "10m",
      startToCloseTimeout: "2m",
      scheduleToCloseTimeout: "3h",
      heartbeatTimeout: "30s",
      retryPolicy: { initialInterval: "2s", backoffCoefficient: 3, maxInterval: "1m", maxAttempts: 4, nonRetryableErrorTypes: ["Fatal"] },
    };
    expect((await call(server, "POST", "/v1/queues/q/tasks", body)).status).toBe(201);
    const view = taskViewSchema.parse(await (await call(server, "GET", "/v1/tasks/opts")).json());
    expect(view).toMatchObject({
      state: "scheduled",
      priority: 1,
      scheduleToStartTimeoutMs: 600_000,
      startToCloseTimeoutMs: 120_000,
      scheduleToCloseTimeoutMs: 10_800_000,
      heartbeatTimeoutMs: 30_000,
      retryPolicy: { initialIntervalMs: 2_000, backoffCoefficient: 3, maxIntervalMs: 60_000, maxAttempts: 4, nonRetryableErrorTypes: ["Fatal"] },
      attempts: [],
    });
    expect(Date.parse(view.runAt!) - Date.parse(view.createdAt)).toBe(3_600_000);
    const bad = async (extra: object, field: string) =>
      expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks", { type: "t", ...extra }), 400, "invalid_argument")).toContain(field);
    await bad({ heartbeatTimeout: "10m", startToCloseTimeout: "1m" }, "heartbeatTimeout");
    await bad({ startToCloseTimeout: "1h", scheduleToCloseTimeout: "1m" }, "startToCloseTimeout");
    await bad({ retryPolicy: { backoffCoefficient: 0.5 } }, "backoffCoefficient");
    await bad({ retryPolicy: { initialInterval: "1m", maxInterval: "1s" } }, "maxInterval");
    await bad({ delay: "1s", runAt: "2030-01-01T00:00:00Z" }, "runAt");
    await bad({ priority: 9 }, "priority");
    await bad({ ifExists: "maybe" }, "ifExists");
  });

  test("cancel and the dead-letter routes", async () => {
    await using server = await startTestServer();
    await call(server, "POST", "/v1/queues/q/tasks/batch", { tasks: [{ type: "t", id: "p" }, { type: "t", id: "d", retryPolicy: { maxAttempts: 1 } }] });
    expect(await (await call(server, "POST", "/v1/tasks/p/cancel")).json()).toEqual({ id: "p", state: "canceled", cancelRequested: false });
    await expectError(await call(server, "POST", "/v1/tasks/p/cancel", {}), 409, "conflict");
    const polled = await (await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], waitMs: 0 })).json();
    expect(polled.tasks.map((t: { id: string }) => t.id)).toEqual(["d"]);
    await call(server, "POST", "/v1/tasks/d/fail", { leaseToken: polled.tasks[0].leaseToken, error: { type: "E", message: "m" } });
    const dead = deadListResponseSchema.parse(await (await call(server, "GET", "/v1/queues/q/dead")).json());
    expect(dead.tasks.map((t) => [t.id, t.state, t.error?.type])).toEqual([["d", "failed", "E"]]);
    await expectError(await call(server, "POST", "/v1/queues/q/dead/requeue", {}), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/q/dead/requeue", { ids: ["p"] }), 409, "conflict");
    expect(await (await call(server, "POST", "/v1/queues/q/dead/requeue", { all: true })).json()).toEqual({ requeued: ["d"] });
    expect((await (await call(server, "GET", "/v1/tasks/d")).json()).state).toBe("pending");
    expect(await (await call(server, "POST", "/v1/queues/q/dead/purge")).json()).toEqual({ purged: 0 });
  });

  test("an existing producer id answers 200 with the same task", async () => {
    await using server = await startTestServer();
    const first = await call(server, "POST", "/v1/queues/q/tasks", { type: "t", id: "order-7" });
    const second = await call(server, "POST", "/v1/queues/q/tasks", { type: "t", id: "order-7" });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(await second.json()).toMatchObject({ id: "order-7", created: false });
  });

  test("a batch is committed at once and keeps order", async () => {
    await using server = await startTestServer();
    const tasks = Array.from({ length: 5 }, (_, n) => ({ type: "t", input: n }));
    const response = await call(server, "POST", "/v1/queues/q/tasks/batch", { tasks });
    expect(response.status).toBe(201);
    const polled = await (await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], max: 10, waitMs: 0 })).json();
    expect(polled.tasks.map((t: { input: number }) => t.input)).toEqual([0, 1, 2, 3, 4]);
  });

  test("queue names may contain a slash, encoded or not", async () => {
    await using server = await startTestServer();
    expect((await call(server, "POST", "/v1/queues/alice%2Fops/tasks", { type: "t" })).status).toBe(201);
    expect((await call(server, "POST", "/v1/queues/alice/ops/tasks", { type: "t" })).status).toBe(201);
    const queues = await (await call(server, "GET", "/v1/queues")).json();
    expect(queues.queues.map((q: { name: string; pending: number }) => [q.name, q.pending])).toEqual([["alice/ops", 2]]);
  });

  test("every kind of bad input gets its 4xx and the server keeps serving", async () => {
    await using server = await startTestServer({ maxBodyBytes: 2048 });
    await expectError(await call(server, "POST", "/v1/queues/q/tasks", "{not json"), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/q/tasks", ""), 400, "invalid_argument");
    expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks", { type: 42 }), 400, "invalid_argument")).toContain("type");
    expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks", { type: "t", surprise: 1 }), 400, "invalid_argument")).toContain("surprise");
    expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks", { type: "t", startToCloseTimeout: "soon" }), 400, "invalid_argument")).toContain(
      "startToCloseTimeout",
    );
    await expectError(await call(server, "POST", "/v1/queues/q/tasks", [1, 2]), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/bad%20name/tasks", { type: "t" }), 400, "invalid_argument");
    await expectError(await call(server, "POST", `/v1/queues/${"x".repeat(256)}/tasks`, { type: "t" }), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/%E0%A4%A/tasks", { type: "t" }), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/q/tasks", { type: "t", input: "x".repeat(4096) }), 413, "payload_too_large");
    await expectError(await call(server, "GET", "/v1/nothing"), 404, "not_found");
    await expectError(await call(server, "DELETE", "/v1/queues/q/tasks"), 405, "method_not_allowed");
    await expectError(await call(server, "GET", "/v1/tasks/missing"), 404, "not_found");
    await expectError(await call(server, "GET", "/v1/tasks/x?waitMs=-5"), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/tasks/missing/complete", { leaseToken: "t" }), 404, "not_found");
    await expectError(await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: [], waitMs: 0 }), 400, "invalid_argument");
    await expectError(await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], waitMs: 61_000 }), 400, "invalid_argument");
    expect((await call(server, "GET", "/livez")).status).toBe(200);
    expect((await call(server, "POST", "/v1/queues/q/tasks", { type: "t" })).status).toBe(201);
  });

  test("a body that is not UTF-8 is refused, and a replacement character that is UTF-8 is kept", async () => {
    await using server = await startTestServer();
    const bytes = (text: string, at: number, ...inserted: number[]) => {
      const encoded = new TextEncoder().encode(text);
      return new Uint8Array([...encoded.subarray(0, at), ...inserted, ...encoded.subarray(at)]);
    };
    const json = JSON.stringify({ type: "t", input: "ab" });
    const at = json.indexOf("ab") + 1;
    // A lone continuation byte, and a truncated 3-byte sequence, inside the input string.
    for (const bad of [bytes(json, at, 0x80), bytes(json, at, 0xe2, 0x82)]) {
      expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks", bad), 400, "invalid_argument")).toMatch(/not valid JSON/);
    }
    const batch = JSON.stringify({ tasks: [{ type: "t", input: "ab" }] });
    expect(await expectError(await call(server, "POST", "/v1/queues/q/tasks/batch", bytes(batch, batch.indexOf("ab") + 1, 0xff)), 400, "invalid_argument")).toMatch(
      /not valid JSON/,
    );
    // U+FFFD sent as its own UTF-8 bytes is text like any other.
    const created = await call(server, "POST", "/v1/queues/q/tasks", bytes(json, at, 0xef, 0xbf, 0xbd));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const read = (await (await call(server, "GET", `/v1/tasks/${id}`)).json()) as { input: unknown };
    expect(read.input).toBe("a\uFFFDb");
  });

  test("a stale lease token is a 409 conflict", async () => {
    await using server = await startTestServer();
    const { id } = await (await call(server, "POST", "/v1/queues/q/tasks", { type: "t" })).json();
    await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], waitMs: 0 });
    await expectError(await call(server, "POST", `/v1/tasks/${id}/complete`, { leaseToken: "stale" }), 409, "conflict");
    await expectError(await call(server, "POST", `/v1/tasks/${id}/heartbeat`, { leaseToken: "stale" }), 409, "conflict");
  });

  test("with a token, every route but the health checks needs it", async () => {
    await using server = await startTestServer({ token: "s3cret-token" });
    await expectError(await call(server, "GET", "/v1/queues"), 401, "unauthorized");
    await expectError(await call(server, "GET", "/v1/queues", undefined, { authorization: "Bearer wrong-token" }), 401, "unauthorized");
    await expectError(await call(server, "GET", "/v1/queues", undefined, { authorization: "Bearer s3cret-token-longer" }), 401, "unauthorized");
    expect((await call(server, "GET", "/v1/queues", undefined, { authorization: "Bearer s3cret-token" })).status).toBe(200);
    expect((await call(server, "GET", "/livez")).status).toBe(200);
    expect((await call(server, "GET", "/readyz")).status).toBe(200);
  });

  test("a task wait returns when the task finishes", async () => {
    await using server = await startTestServer();
    const { id } = await (await call(server, "POST", "/v1/queues/q/tasks", { type: "t" })).json();
    const waiting = call(server, "GET", `/v1/tasks/${id}?waitMs=30000`);
    const polled = await (await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], waitMs: 0 })).json();
    await call(server, "POST", `/v1/tasks/${id}/fail`, { leaseToken: polled.tasks[0].leaseToken, error: { type: "Boom", message: "bad", nonRetryable: true } });
    expect(await (await waiting).json()).toMatchObject({ state: "failed", error: { type: "Boom", message: "bad" } });
  });

  test("fuzzed requests never get a 5xx, and every error is a known code", async () => {
    await using server = await startTestServer({ maxBodyBytes: 4096 });
    await fuzzRequests(server, {
      seed: 7,
      requests: 400,
      paths: ["/v1/queues/q/tasks", "/v1/queues/q/tasks/batch", "/v1/queues/q/poll", "/v1/tasks/abc", "/v1/tasks/abc/complete", "/v1/tasks/abc/fail", "/v1/tasks/abc/heartbeat", "/v1/queues", "/v1/queues/%ZZ/poll", "/v1/tasks/%00", "/", "/v1/queues/a/b/c/tasks"],
      values: [null, true, 0, -1, 1e308, "", "x", "30s", "a".repeat(300), [], [{}], {}, { type: "t" }, { nested: { deep: [1, 2, { x: null }] } }],
      keys: ["type", "input", "id", "tasks", "identity", "types", "max", "waitMs", "leaseToken", "result", "error", "details", "startToCloseTimeout", "__proto__", "constructor"],
      adjust: (body) => {
        if (body.waitMs !== undefined) body.waitMs = 0;
      },
    });
    expect((await call(server, "GET", "/readyz")).status).toBe(200);
  });
});
