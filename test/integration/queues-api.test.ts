/** Queue administration and visibility over the in-process HTTP API, on a real SQLite file. */
import { describe, expect, test } from "vitest";
import { describeResponseSchema, enqueueBatchResponseSchema, explainResponseSchema, queueListResponseSchema } from "../../lib/protocol/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

function call(server: TestServer, method: string, path: string, body?: unknown) {
  return server.fetch(new Request("http://tqd.test" + path, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
}
const poll = (server: TestServer, queue: string, extra: object = {}) =>
  call(server, "POST", `/v1/queues/${queue}/poll`, { identity: "w1", types: ["t"], waitMs: 0, max: 100, ...extra }).then((r) => r.json());

describe("queues over HTTP", () => {
  test("the typo guard warns about a queue no worker polled in the last hour", async () => {
    await using server = await startTestServer();
    const first = await (await call(server, "POST", "/v1/queues/emials/tasks", { type: "t" })).json();
    expect(first.warning).toContain("emials");
    await poll(server, "emails");
    const second = await (await call(server, "POST", "/v1/queues/emails/tasks", { type: "t" })).json();
    expect(second.warning).toBeUndefined();
  });

  test("a batch to a queue no worker polled carries the warning once, not once per task", async () => {
    await using server = await startTestServer();
    const tasks = [{ type: "t" }, { type: "t" }, { type: "t" }];
    const response = await call(server, "POST", "/v1/queues/emials/tasks/batch", { tasks });
    expect(response.status).toBe(201);
    const answer = enqueueBatchResponseSchema.parse(await response.json());
    expect(answer.warning).toContain('"emials"');
    expect(answer.tasks).toHaveLength(3);
    for (const task of answer.tasks) expect(task).not.toHaveProperty("warning");
    await poll(server, "emails");
    const polled = await (await call(server, "POST", "/v1/queues/emails/tasks/batch", { tasks })).json();
    expect(polled).not.toHaveProperty("warning");
    expect(polled.tasks).toHaveLength(3);
  });

  test("last-poll times survive a restart, so the typo guard stays quiet for a queue polled before it", async () => {
    await using dir = await tempDir();
    const t0 = Date.UTC(2030, 0, 1);
    {
      const clock = new FakeClock(t0);
      await using server = await startTestServer({ dataDir: dir.path, clock });
      await poll(server, "emails");
      await clock.advance(6 * 60_000);
      await poll(server, "emails");
    }
    // 56 minutes after the second poll, 62 after the first: only the second keeps the queue known.
    await using server = await startTestServer({ dataDir: dir.path, clock: new FakeClock(t0 + 62 * 60_000) });
    const answer = await (await call(server, "POST", "/v1/queues/emails/tasks", { type: "t" })).json();
    expect(answer.warning).toBeUndefined();
    const other = await (await call(server, "POST", "/v1/queues/emials/tasks", { type: "t" })).json();
    expect(other.warning).toContain("emials");
  });

  test("limit, pause and fairness are persisted and survive a restart", async () => {
    await using dir = await tempDir();
    {
      await using server = await startTestServer({ dataDir: dir.path });
      expect(await (await call(server, "POST", "/v1/queues/q/limit", { rate: "20/s" })).json()).toEqual({ queue: "q", limit: { ratePerSecond: 20, burst: 20 } });
      expect(await (await call(server, "POST", "/v1/queues/q/pause")).json()).toEqual({ queue: "q", paused: true });
      expect((await call(server, "POST", "/v1/queues/q/fairness", { key: "tenant-a", weight: 3, rate: "5/s" })).status).toBe(200);
    }
    await using server = await startTestServer({ dataDir: dir.path });
    await call(server, "POST", "/v1/queues/q/tasks", { type: "t", fairnessKey: "tenant-a" });
    expect((await poll(server, "q")).tasks).toEqual([]);
    const described = describeResponseSchema.parse(await (await call(server, "GET", "/v1/queues/q")).json());
    expect(described).toMatchObject({
      paused: true,
      rateLimit: { source: "admin", effective: { ratePerSecond: 20, burst: 20 }, admin: { ratePerSecond: 20 } },
      fairness: [{ key: "tenant-a", weight: 3, ratePerSecond: 5, pending: 1 }],
    });
    await call(server, "POST", "/v1/queues/q/resume");
    expect((await poll(server, "q")).tasks).toHaveLength(1);
    expect(await (await call(server, "POST", "/v1/queues/q/limit", { clear: true })).json()).toEqual({ queue: "q", limit: null });
  });

  test("describe reports pollers, types without a poller, backlog and last-minute rates", async () => {
    await using server = await startTestServer();
    await call(server, "POST", "/v1/queues/q/tasks/batch", { tasks: [{ type: "a" }, { type: "b" }, { type: "c" }] });
    await poll(server, "q", { identity: "ab-worker", types: ["a", "b"], host: "host-1", max: 1, queueRate: "5/s" });
    await poll(server, "q", { identity: "a-worker", types: ["a"], max: 1 });
    const d = describeResponseSchema.parse(await (await call(server, "GET", "/v1/queues/q")).json());
    expect(d.pollers.map((p) => [p.identity, p.host, p.types, p.declaredRatePerSecond])).toEqual([
      ["ab-worker", "host-1", ["a", "b"], 5],
      ["a-worker", undefined, ["a"], undefined],
    ]);
    expect(d).toMatchObject({ pollerTypesDiffer: true, typesWithoutPoller: ["c"], lastMinute: { added: 3, dispatched: 1 }, rateLimit: { source: "poller", declaredBy: "ab-worker" } });
    expect(d.backlog.pending).toBe(2);
    expect(d.backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    expect(await (await call(server, "POST", "/v1/queues/q/pollers/leave", { identity: "ab-worker" })).json()).toEqual({ queue: "q", identity: "ab-worker", left: true });
    const after = describeResponseSchema.parse(await (await call(server, "GET", "/v1/queues/q")).json());
    expect(after.pollers.map((p) => p.identity)).toEqual(["a-worker"]);
  });

  test("explain says why a task waits", async () => {
    await using server = await startTestServer();
    const { id } = await (await call(server, "POST", "/v1/queues/q/tasks", { type: "t", delay: "1h" })).json();
    const delayed = explainResponseSchema.parse(await (await call(server, "GET", `/v1/tasks/${id}/explain`)).json());
    expect(delayed).toMatchObject({ state: "scheduled", reason: "delay" });
    expect(delayed.until).toBeDefined();
    const pending = await (await call(server, "POST", "/v1/queues/q/tasks", { type: "t" })).json();
    expect((await (await call(server, "GET", `/v1/tasks/${pending.id}/explain`)).json()).reason).toBe("no_poller");
  });

  test("the queue listing merges live counts with final counts from the store, by prefix", async () => {
    await using server = await startTestServer();
    await call(server, "POST", "/v1/queues/team-a%2Fjobs/tasks", { type: "t" });
    await call(server, "POST", "/v1/queues/team-b%2Fjobs/tasks", { type: "t" });
    const polled = await poll(server, "team-a%2Fjobs");
    await call(server, "POST", `/v1/tasks/${polled.tasks[0].id}/complete`, { leaseToken: polled.tasks[0].leaseToken });
    await call(server, "POST", "/v1/queues/team-a%2Fjobs/tasks", { type: "t" });
    const list = queueListResponseSchema.parse(await (await call(server, "GET", "/v1/queues?prefix=team-a")).json());
    expect(list.queues).toEqual([{ name: "team-a/jobs", scheduled: 0, pending: 1, running: 0, completed: 1, failed: 0, canceled: 0, timedOut: 0, pollersWaiting: 0 }]);
  });

  test("/metrics speaks the Prometheus text format", async () => {
    await using server = await startTestServer();
    await call(server, "POST", "/v1/queues/q/tasks", { type: "t" });
    await poll(server, "q");
    const response = await call(server, "GET", "/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain('tqd_tasks_enqueued_total{queue="q"} 1');
    expect(text).toContain('tqd_tasks_dispatched_total{queue="q"} 1');
    expect(text).toContain("# TYPE tqd_schedule_to_start_seconds histogram");
    expect(text).toContain('tqd_schedule_to_start_seconds_bucket{le="+Inf"} 1');
    expect(text).toMatch(/tqd_store_commit_batch_size_count \d+/);
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[^}]*\})? [-\d.e+]+)$/);
  });

  test("/metrics counts a queue's enqueues, dispatches and ends (completed, failed for good)", async () => {
    await using server = await startTestServer();
    for (let i = 0; i < 3; i++) await call(server, "POST", "/v1/queues/done/tasks", { type: "t", retryPolicy: { maxAttempts: 1 } });
    const taken = (await poll(server, "done")).tasks as { id: string; leaseToken: string }[];
    expect(taken).toHaveLength(3);
    await call(server, "POST", `/v1/tasks/${taken[0]!.id}/complete`, { leaseToken: taken[0]!.leaseToken });
    await call(server, "POST", `/v1/tasks/${taken[1]!.id}/fail`, { leaseToken: taken[1]!.leaseToken, error: { type: "E", message: "no" } });
    await call(server, "POST", `/v1/queues/done/tasks`, { type: "t" });
    const pending = queueListResponseSchema.parse(await (await call(server, "GET", "/v1/queues?prefix=done")).json());
    expect(pending.queues[0]).toMatchObject({ pending: 1, running: 1 });
    const text = await (await call(server, "GET", "/metrics")).text();
    expect(text).toContain('tqd_tasks_enqueued_total{queue="done"} 4');
    expect(text).toContain('tqd_tasks_dispatched_total{queue="done"} 3');
    expect(text).toContain('tqd_tasks_completed_total{queue="done"} 1');
    expect(text).toContain('tqd_tasks_failed_total{queue="done"} 1');
  });

  test("bad queue admin input gets a 400 naming the field", async () => {
    await using server = await startTestServer();
    expect((await call(server, "POST", "/v1/queues/q/limit", { rate: "fast" })).status).toBe(400);
    expect((await call(server, "POST", "/v1/queues/q/limit", {})).status).toBe(400);
    expect((await call(server, "POST", "/v1/queues/q/fairness", { weight: 2 })).status).toBe(400);
    expect((await call(server, "POST", "/v1/queues/q/pause", { surprise: 1 })).status).toBe(400);
    expect((await call(server, "POST", "/v1/queues/q/poll", { identity: "w", types: ["t"], queueRate: "lots" })).status).toBe(400);
  });
});
