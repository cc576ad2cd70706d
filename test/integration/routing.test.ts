/** Task routing and traffic rules through the daemon and the in-process HTTP API. */
import { describe, expect, test } from "vitest";
import { routeTableSchema } from "../../lib/protocol/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

function call(server: TestServer, method: string, path: string, body?: unknown) {
  return server.fetch(new Request("http://tqd.test" + path, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
}
const poll = async (server: TestServer, queue: string, identity = "w") =>
  (await (await call(server, "POST", `/v1/queues/${encodeURIComponent(queue)}/poll`, { identity, types: ["t"], waitMs: 0, max: 100 })).json()).tasks as { id: string }[];

describe("routing", () => {
  test("a header rule sends only matching tasks to its target; removing it stops that", async () => {
    await using server = await startTestServer();
    await poll(server, "alice/ops");
    const add = await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "alice/ops", headers: { user: "alice" } } });
    expect(add.status).toBe(201);
    const table = routeTableSchema.parse(await add.json());
    expect(table).toMatchObject({ version: 1, rules: [{ id: "r1", to: "alice/ops", percent: 100, fallbackAfterMs: 30_000 }] });
    const alice = await (await call(server, "POST", "/v1/queues/ops/tasks", { type: "t", headers: { user: "alice" } })).json();
    const bob = await (await call(server, "POST", "/v1/queues/ops/tasks", { type: "t", headers: { user: "bob" } })).json();
    expect(alice.routedTo).toBe("alice/ops");
    expect(bob.routedTo).toBeUndefined();
    expect((await poll(server, "alice/ops")).map((t) => t.id)).toEqual([alice.id]);
    expect((await poll(server, "ops")).map((t) => t.id)).toEqual([bob.id]);
    const view = await (await call(server, "GET", `/v1/tasks/${alice.id}`)).json();
    expect(view).toMatchObject({ queue: "alice/ops", routedFrom: "ops", routeRuleId: "r1", headers: { user: "alice" } });
    const stats = routeTableSchema.parse(await (await call(server, "GET", "/v1/queues/ops/routes")).json());
    expect(stats.rules[0]?.stats).toEqual({ routed: 1, started: 1, fellBack: 0, stranded: 0 });
    const described = await (await call(server, "GET", "/v1/queues/ops")).json();
    expect(described.routes).toEqual({ version: 1, rules: [{ id: "r1", to: "alice/ops", stats: { routed: 1, started: 1, fellBack: 0, stranded: 0 } }] });
    expect((await call(server, "POST", "/v1/queues/ops/routes/r1/delete", { expectedVersion: 1 })).status).toBe(200);
    const later = await (await call(server, "POST", "/v1/queues/ops/tasks", { type: "t", headers: { user: "alice" } })).json();
    expect(later.routedTo).toBeUndefined();
  });

  test("guards: no live poller on the target (unless forced), stale versions, cycles, self-routing", async () => {
    await using server = await startTestServer();
    const refused = await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "nobody" } });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.message).toContain("nobody");
    expect((await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "nobody" }, force: true })).status).toBe(201);
    expect((await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "other" }, force: true, expectedVersion: 0 })).status).toBe(409);
    expect((await call(server, "POST", "/v1/queues/nobody/routes", { rule: { to: "ops" }, force: true })).status).toBe(400);
    expect((await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "ops" }, force: true })).status).toBe(400);
  });

  test("a forced rule to an absent worker falls back to the source after its fallback time", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "laptop", fallbackAfter: "10s" }, force: true });
    const task = await (await call(server, "POST", "/v1/queues/ops/tasks", { type: "t" })).json();
    expect(task.routedTo).toBe("laptop");
    expect(await poll(server, "ops")).toEqual([]);
    let table = routeTableSchema.parse(await (await call(server, "GET", "/v1/queues/ops/routes")).json());
    expect(table.rules[0]?.stats).toMatchObject({ routed: 1, stranded: 1 });
    await clock.advance(10_000);
    expect((await poll(server, "ops")).map((t) => t.id)).toEqual([task.id]);
    table = routeTableSchema.parse(await (await call(server, "GET", "/v1/queues/ops/routes")).json());
    expect(table.rules[0]?.stats).toMatchObject({ routed: 1, fellBack: 1, stranded: 0, started: 0 });
  });

  test("a producer fallback moves a task from a host queue to its base queue", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    const task = await (await call(server, "POST", "/v1/queues/files%40host%3Aweb-1/tasks", { type: "t", fallbackAfter: "5s" })).json();
    const view = await (await call(server, "GET", `/v1/tasks/${task.id}`)).json();
    expect(view.fallbackQueue).toBe("files");
    await clock.advance(5_000);
    expect((await poll(server, "files")).map((t) => t.id)).toEqual([task.id]);
    expect((await call(server, "POST", "/v1/queues/plain/tasks", { type: "t", fallbackAfter: "5s" })).status).toBe(400);
  });

  test("history and rollback; routing survives a restart", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "a" }, force: true });
    await call(server, "POST", "/v1/queues/ops/routes", { rule: { to: "b", type: "x" }, force: true });
    const history = await (await call(server, "GET", "/v1/queues/ops/routes/history")).json();
    expect(history.versions.map((v: { version: number; change: string }) => [v.version, v.change])).toEqual([
      [1, "add r1: all -> a"],
      [2, "add r2: type x -> b"],
    ]);
    const rolled = routeTableSchema.parse(await (await call(server, "POST", "/v1/queues/ops/routes/rollback", { version: 1, force: true })).json());
    expect(rolled).toMatchObject({ version: 3, rules: [{ id: "r1", to: "a" }] });
    const tested = await (await call(server, "POST", "/v1/queues/ops/routes/test", { type: "x" })).json();
    expect(tested).toEqual({ queue: "a", ruleId: "r1", fallbackAfterMs: 30_000 });
    await server.stop();
    await using again = await startTestServer({ clock, dataDir: server.dataDir });
    expect(routeTableSchema.parse(await (await call(again, "GET", "/v1/queues/ops/routes")).json())).toMatchObject({ version: 3, rules: [{ id: "r1" }] });
  });
});
