import { describe, expect, test } from "vitest";
import { errorBodySchema, settleBatchResponseSchema, type LeasedTask } from "../../lib/protocol/index.ts";
import type { TaskStore } from "../../lib/store/index.ts";
import { failingStore, type FailingStore } from "../support/failing-store.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const BASE = "http://tqd.test";

function call(server: TestServer, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return server.fetch(new Request(BASE + path, init));
}

/** Enqueues `n` tasks of type `t` on `q` (one retry left for failures) and leases them all. */
async function leased(server: TestServer, n: number, maxAttempts = 2): Promise<LeasedTask[]> {
  const tasks = Array.from({ length: n }, () => ({ type: "t", input: { n: 1 }, retryPolicy: { maxAttempts, initialInterval: "1h" } }));
  await server.client.enqueueBatch("q", tasks);
  return server.client.poll("q", { identity: "w1", types: ["t"], max: n, waitMs: 0 });
}

async function settleBatch(server: TestServer, completions: unknown[]) {
  const response = await call(server, "POST", "/v1/tasks/complete", { completions });
  expect(response.status).toBe(200);
  return settleBatchResponseSchema.parse(await response.json()).results;
}

describe("POST /v1/tasks/complete (batched outcomes)", () => {
  test("completes and fails several tasks in one commit, answering each in order", async () => {
    await using server = await startTestServer();
    const [a, b, c] = await leased(server, 3);
    const commitsBefore = server.daemon.storeStats().commits;
    const results = await settleBatch(server, [
      { id: a!.id, leaseToken: a!.leaseToken, result: { ok: 1 } },
      { id: b!.id, leaseToken: b!.leaseToken, error: { type: "Boom", message: "retry me" } },
      { id: c!.id, leaseToken: c!.leaseToken },
    ]);
    expect(results).toEqual([
      { id: a!.id, state: "completed" },
      { id: b!.id, state: "scheduled" },
      { id: c!.id, state: "completed" },
    ]);
    expect(server.daemon.storeStats().commits - commitsBefore).toBe(1);
    expect(await server.client.getTask(a!.id)).toMatchObject({ state: "completed", result: { ok: 1 } });
    expect(await server.client.getTask(b!.id)).toMatchObject({ state: "scheduled", attempts: [{ attempt: 1, outcome: "failed", error: { type: "Boom" } }] });
    expect((await server.client.getTask(c!.id)).result).toBeUndefined();
  });

  test("a stale lease or an unknown task fails only its own item", async () => {
    await using server = await startTestServer();
    const [a, b] = await leased(server, 2);
    const results = await settleBatch(server, [
      { id: a!.id, leaseToken: "stale-token" },
      { id: "no-such-task", leaseToken: "t" },
      { id: b!.id, leaseToken: b!.leaseToken, result: 2 },
    ]);
    expect(results[0]).toMatchObject({ id: a!.id, error: { code: "conflict" } });
    expect(results[1]).toMatchObject({ id: "no-such-task", error: { code: "not_found" } });
    expect(results[2]).toEqual({ id: b!.id, state: "completed" });
    expect((await server.client.getTask(a!.id)).state).toBe("running");
  });

  test("repeating a batch is harmless: settled items answer their state again", async () => {
    await using server = await startTestServer();
    const [a, b] = await leased(server, 2, 1);
    const batch = [
      { id: a!.id, leaseToken: a!.leaseToken, result: "done" },
      { id: b!.id, leaseToken: b!.leaseToken, error: { type: "Fatal", message: "no retries left" } },
    ];
    const first = await settleBatch(server, batch);
    const again = await settleBatch(server, batch);
    expect(first).toEqual([
      { id: a!.id, state: "completed" },
      { id: b!.id, state: "failed" },
    ]);
    expect(again).toEqual(first);
    // A repeat with the other outcome is not a repeat.
    const crossed = await settleBatch(server, [{ id: a!.id, leaseToken: a!.leaseToken, error: { type: "Late", message: "x" } }]);
    expect(crossed[0]).toMatchObject({ error: { code: "conflict" } });
  });

  test("a failed commit answers each item unavailable and changes nothing", async () => {
    let store: FailingStore | undefined;
    await using server = await startTestServer({ wrapStore: (inner: TaskStore) => (store = failingStore(inner)) });
    const [a, b] = await leased(server, 2);
    store!.failNext(1);
    const results = await settleBatch(server, [
      { id: a!.id, leaseToken: a!.leaseToken },
      { id: b!.id, leaseToken: b!.leaseToken },
    ]);
    expect(results.map((result) => ("error" in result ? result.error.code : result.state))).toEqual(["unavailable", "unavailable"]);
    // Nothing was applied: the same leases settle normally afterwards.
    expect(await settleBatch(server, [{ id: a!.id, leaseToken: a!.leaseToken }])).toEqual([{ id: a!.id, state: "completed" }]);
    expect((await server.client.getTask(b!.id)).state).toBe("running");
  });

  test("rejects a malformed batch as a whole, naming the field", async () => {
    await using server = await startTestServer();
    for (const body of [{}, { completions: [] }, { completions: [{ id: "a" }] }, { completions: [{ id: "a", leaseToken: "t", result: 1, error: { type: "X", message: "" } }] }]) {
      const response = await call(server, "POST", "/v1/tasks/complete", body);
      expect(response.status).toBe(400);
      expect(errorBodySchema.parse(await response.json()).error.code).toBe("invalid_argument");
    }
  });

  test("the client sends a batch and reads per-item answers", async () => {
    await using server = await startTestServer();
    const [a] = await leased(server, 1);
    const results = await server.client.settleBatch([
      { id: a!.id, leaseToken: a!.leaseToken, result: { x: 1 } },
      { id: a!.id, leaseToken: "other" },
    ]);
    expect(results[0]).toEqual({ id: a!.id, state: "completed" });
    expect(results[1]).toMatchObject({ error: { code: "conflict" } });
  });
});
