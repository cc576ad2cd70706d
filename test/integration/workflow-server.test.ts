/**
 * The workflow server through the in-process HTTP API, with the test playing the worker: it
 * polls workflow tasks, reads history and answers with commands, so every rule of the engine
 * (events, sticky queues, sessions, timers, failures, restart) is checked without a runtime.
 */
import { describe, expect, test } from "vitest";
import { workflowHistoryResponseSchema, workflowViewSchema, type WorkflowCommand, type WorkflowEvent } from "../../lib/protocol/index.ts";
import { failingStore, type FailingStore } from "../support/failing-store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { fuzzRequests } from "../support/fuzz-requests.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

interface Leased {
  id: string;
  queue: string;
  type: string;
  input: unknown;
  leaseToken: string;
}

function call(server: TestServer, method: string, path: string, body?: unknown) {
  return server.fetch(new Request("http://tqd.test" + path, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
}

async function poll(server: TestServer, queue: string, types: string[], identity = "w1"): Promise<Leased[]> {
  const response = await call(server, "POST", `/v1/queues/${encodeURIComponent(queue)}/poll`, { identity, types, waitMs: 0, max: 10 });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: Leased[] }).tasks;
}

async function history(server: TestServer, id: string, after = 0): Promise<WorkflowEvent[]> {
  const response = await call(server, "GET", `/v1/workflows/${id}/history?after=${after}`);
  expect(response.status).toBe(200);
  return workflowHistoryResponseSchema.parse(await response.json()).events;
}

async function describeWf(server: TestServer, id: string) {
  return workflowViewSchema.parse(await (await call(server, "GET", `/v1/workflows/${id}`)).json());
}

async function answer(server: TestServer, workflowId: string, task: Leased, seenUpTo: number, commands: WorkflowCommand[], mode = "fresh") {
  return call(server, "POST", `/v1/workflows/${workflowId}/task-complete`, { taskId: task.id, leaseToken: task.leaseToken, seenUpTo, commands, mode, blockedOn: ["test"] });
}

const WT = "tqd.workflow:pipeline";

describe("workflow server", () => {
  test("start, schedule an activity, its completion asks for a sticky workflow task, complete the workflow", async () => {
    await using server = await startTestServer();
    const started = await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf-1", input: { file: "a" } });
    expect(started.status).toBe(201);
    expect(await started.json()).toMatchObject({ id: "wf-1", state: "running", created: true });
    // Starting the same id again returns the running execution.
    const again = await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf-1" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ created: false });

    const [wt1] = await poll(server, "files", [WT]);
    expect(wt1).toMatchObject({ type: WT, input: { workflowId: "wf-1", workflowType: "pipeline" } });
    const events = await history(server, "wf-1");
    expect(events).toMatchObject([{ id: 1, kind: "workflow.started", input: { file: "a" } }]);
    const answered = await answer(server, "wf-1", wt1!, 1, [{ kind: "scheduleActivity", seq: 1, type: "download", input: { file: "a" }, options: { startToCloseTimeout: "30s" } }]);
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ lastEventId: 3, state: "running" });
    // Repeating the answer (its reply was lost) is answered alike; another lease token is a conflict.
    expect((await answer(server, "wf-1", wt1!, 1, [])).status).toBe(200);
    expect((await answer(server, "wf-1", { ...wt1!, leaseToken: "stale" }, 1, [])).status).toBe(409);
    expect(await history(server, "wf-1")).toHaveLength(3);

    let view = await describeWf(server, "wf-1");
    expect(view.pendingActivities).toMatchObject([{ seq: 1, type: "download", queue: "files", state: "pending" }]);
    expect(view.blockedOn).toEqual(["test"]);

    const [activity] = await poll(server, "files", ["download"], "w2");
    expect(activity).toMatchObject({ type: "download", input: { file: "a" } });
    const done = await call(server, "POST", `/v1/tasks/${activity!.id}/complete`, { leaseToken: activity!.leaseToken, result: { path: "/tmp/a" } });
    expect(done.status).toBe(200);

    // The next workflow task goes to w1's worker queue (sticky), not to the base queue.
    expect(await poll(server, "files", [WT], "w2")).toEqual([]);
    const [wt2] = await poll(server, "files@worker:w1", [WT]);
    expect(wt2).toBeDefined();
    const more = await history(server, "wf-1", 3);
    expect(more).toMatchObject([{ id: 4, kind: "activity.completed", seq: 1, result: { path: "/tmp/a" } }]);
    expect((await answer(server, "wf-1", wt2!, 4, [{ kind: "completeWorkflow", result: { ok: true } }], "cached")).status).toBe(200);

    view = await describeWf(server, "wf-1");
    expect(view).toMatchObject({ state: "completed", result: { ok: true }, pendingActivities: [] });
    const all = await history(server, "wf-1");
    expect(all.map((e) => e.kind)).toEqual(["workflow.started", "workflowTask.completed", "activity.scheduled", "activity.completed", "workflowTask.completed", "workflow.completed"]);
    // A closed id is rejected unless asked to return it or start over.
    expect((await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf-1" })).status).toBe(409);
    expect((await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf-1", ifExists: "return" })).status).toBe(200);
    const rerun = await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf-1", ifExists: "new" });
    expect(rerun.status).toBe(201);
    expect(await history(server, "wf-1")).toHaveLength(1);
    const metrics = await (await call(server, "GET", "/metrics")).text();
    expect(metrics).toContain('tqd_workflow_tasks_total{mode="cached"} 1');
  });

  test("the sticky task falls back to the workflow's queue when its worker does not take it", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "wf", stickyTimeout: "2s" });
    const [wt1] = await poll(server, "q", [WT]);
    await answer(server, "wf", wt1!, 1, [{ kind: "startTimer", seq: 1, durationMs: 1_000 }]);
    const fired = server.daemon.events.next("workflow.changed", (e) => e.workflowId === "wf");
    await clock.advance(1_000);
    await fired;
    expect(await poll(server, "q", [WT], "w2")).toEqual([]);
    await clock.advance(2_000);
    const [wt2] = await poll(server, "q", [WT], "w2");
    expect(wt2).toBeDefined();
    expect((await history(server, "wf", 3)).map((e) => e.kind)).toEqual(["timer.fired"]);
  });

  test("a failed workflow task is retried on the workflow's queue after a backoff; describe shows the error", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "wf" });
    const [wt1] = await poll(server, "q", [WT]);
    await call(server, "POST", `/v1/tasks/${wt1!.id}/fail`, { leaseToken: wt1!.leaseToken, error: { type: "nondeterminism", message: "at command 1 history has activity \"a\"" } });
    const view = await describeWf(server, "wf");
    expect(view.state).toBe("running");
    expect(view.workflowTask).toMatchObject({ attempt: 2, error: { type: "nondeterminism" } });
    expect(await poll(server, "q", [WT])).toEqual([]);
    await clock.advance(1_000);
    expect(await poll(server, "q", [WT])).toHaveLength(1);
    const explained = await (await call(server, "GET", "/v1/workflows/wf/explain")).json();
    expect(explained).toMatchObject({ state: "running", reason: "workflow_task" });
  });

  test("sessions: the holder opens the session on its worker; activities go to that worker; its death fails the session", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf" });
    const [wt1] = await poll(server, "files", [WT]);
    await answer(server, "wf", wt1!, 1, [{ kind: "createSession", seq: 1, options: { queue: "files", heartbeatTimeout: "5s" } }]);
    let changed = server.daemon.events.next("workflow.changed");
    const [holder] = await poll(server, "files", ["tqd.session"], "host-a");
    await changed;
    expect(holder).toMatchObject({ type: "tqd.session", input: { workflowId: "wf", seq: 1, queue: "files" } });
    let events = await history(server, "wf", 3);
    expect(events).toMatchObject([{ kind: "session.created", seq: 1, worker: "host-a", workerQueue: "files@worker:host-a" }]);
    const [wt2] = await poll(server, "files@worker:w1", [WT]);
    await answer(server, "wf", wt2!, 4, [{ kind: "scheduleActivity", seq: 2, type: "process", session: 1 }], "cached");
    expect(await poll(server, "files", ["process"], "host-b")).toEqual([]);
    const [work] = await poll(server, "files@worker:host-a", ["process"], "host-a");
    expect(work).toBeDefined();
    // host-a dies: no heartbeat for 5 s. The session fails and its activity is canceled.
    changed = server.daemon.events.next("workflow.changed");
    await clock.advance(5_000);
    await changed;
    events = await history(server, "wf", 6);
    expect(events.map((e) => e.kind)).toEqual(["session.failed"]);
    expect(events[0]).toMatchObject({ error: { type: "SessionFailed" } });
    const task = await (await call(server, "GET", `/v1/tasks/${work!.id}`)).json();
    expect(task.cancelRequested).toBe(true);
    const view = await describeWf(server, "wf");
    expect(view.sessions).toMatchObject([{ seq: 1, state: "failed", worker: "host-a" }]);
    expect(view.pendingActivities).toEqual([]);
  });

  test("completing a session cancels its holder; creation with no free worker fails after its timeout", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock });
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "files", id: "wf" });
    const [wt1] = await poll(server, "files", [WT]);
    await answer(server, "wf", wt1!, 1, [
      { kind: "createSession", seq: 1, options: { queue: "files" } },
      { kind: "createSession", seq: 2, options: { queue: "nobody", creationTimeout: "3s" } },
    ]);
    let changed = server.daemon.events.next("workflow.changed");
    const [holder] = await poll(server, "files", ["tqd.session"], "host-a");
    await changed;
    const [wt2] = await poll(server, "files@worker:w1", [WT]);
    await answer(server, "wf", wt2!, 5, [{ kind: "completeSession", seq: 1 }], "cached");
    const beat = await (await call(server, "POST", `/v1/tasks/${holder!.id}/heartbeat`, { leaseToken: holder!.leaseToken })).json();
    expect(beat.cancelRequested).toBe(true);
    changed = server.daemon.events.next("workflow.changed");
    await clock.advance(3_000);
    await changed;
    const events = await history(server, "wf", 6);
    expect(events.map((e) => e.kind)).toEqual(["session.completed", "session.failed"]);
    expect(events[1]).toMatchObject({ seq: 2 });
    expect((events[1] as { error: { message: string } }).error.message).toContain("nobody");
  });

  test("signals, cancel, list, and an execution survives a restart with its timer", async () => {
    const clock = new FakeClock();
    await using dir = await tempDir();
    {
      await using server = await startTestServer({ clock, dataDir: dir.path });
      await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "sleeper" });
      await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "doomed" });
      const tasks = await poll(server, "q", [WT]);
      const sleeper = tasks.find((t) => (t.input as { workflowId: string }).workflowId === "sleeper")!;
      await answer(server, "sleeper", sleeper, 1, [{ kind: "startTimer", seq: 1, durationMs: 2_000 }]);
      const signaled = await call(server, "POST", "/v1/workflows/doomed/signal", { name: "approve", payload: { by: "ann" } });
      expect(signaled.status).toBe(202);
      const canceled = await call(server, "POST", "/v1/workflows/doomed/cancel", { reason: "test" });
      expect(await canceled.json()).toEqual({ id: "doomed", state: "canceled" });
      expect((await call(server, "POST", "/v1/workflows/doomed/signal", { name: "x" })).status).toBe(409);
      const list = await (await call(server, "GET", "/v1/workflows?state=running")).json();
      expect(list.workflows.map((w: { id: string }) => w.id)).toEqual(["sleeper"]);
    }
    await using server = await startTestServer({ clock, dataDir: dir.path });
    expect((await describeWf(server, "sleeper")).timers).toHaveLength(1);
    const fired = server.daemon.events.next("workflow.changed", (e) => e.workflowId === "sleeper");
    await clock.advance(2_000);
    await fired;
    const [wt] = await poll(server, "q@worker:w1", [WT]);
    expect(wt).toBeDefined();
    expect((await history(server, "sleeper", 3)).map((e) => e.kind)).toEqual(["timer.fired"]);
    expect((await history(server, "doomed")).map((e) => e.kind)).toEqual(["workflow.started", "signal.received", "workflow.canceled"]);
  });

  test("a crash between a timeout and its workflow event is repaired at boot", async () => {
    const clock = new FakeClock();
    await using dir = await tempDir();
    {
      let store: FailingStore | undefined;
      await using server = await startTestServer({ clock, dataDir: dir.path, wrapStore: (inner) => (store = failingStore(inner)) });
      await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "wf" });
      const [wt] = await poll(server, "q", [WT]);
      await answer(server, "wf", wt!, 1, [{ kind: "scheduleActivity", seq: 1, type: "slow", options: { startToCloseTimeout: "1s", retryPolicy: { maxAttempts: 1 } } }]);
      expect(await poll(server, "q", ["slow"])).toHaveLength(1);
      store!.failNext(1, (ops) => ops.some((op) => op.op === "workflow.appendEvent"));
      const ended = server.daemon.events.next("task.finished");
      await clock.advance(1_000);
      await ended;
      await clock.advance(0);
      expect((await history(server, "wf", 3)).map((e) => e.kind)).toEqual([]);
    }
    await using server = await startTestServer({ clock, dataDir: dir.path });
    await server.daemon.events.next("workflow.changed");
    expect(await history(server, "wf", 3)).toMatchObject([{ kind: "activity.failed", seq: 1, state: "timed_out" }]);
    expect(await poll(server, "q@worker:w1", [WT])).toHaveLength(1);
  });

  test("bad input: reserved task types, unknown workflow, bad commands", async () => {
    await using server = await startTestServer();
    const reserved = await call(server, "POST", "/v1/queues/q/tasks", { type: "tqd.session" });
    expect(reserved.status).toBe(400);
    expect((await call(server, "GET", "/v1/workflows/nope")).status).toBe(404);
    expect((await call(server, "GET", "/v1/workflows/nope/history")).status).toBe(404);
    expect((await call(server, "GET", "/v1/workflows?state=weird")).status).toBe(400);
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "wf" });
    const [wt] = await poll(server, "q", [WT]);
    const duplicateSeq = await answer(server, "wf", wt!, 1, [
      { kind: "startTimer", seq: 1, durationMs: 10 },
      { kind: "startTimer", seq: 1, durationMs: 10 },
    ]);
    expect(duplicateSeq.status).toBe(400);
    const badTimeouts = await answer(server, "wf", wt!, 1, [{ kind: "scheduleActivity", seq: 1, type: "a", options: { startToCloseTimeout: "10s", scheduleToCloseTimeout: "1s" } }]);
    expect(badTimeouts.status).toBe(400);
    // The task is still running: a good answer goes through.
    expect((await answer(server, "wf", wt!, 1, [{ kind: "completeWorkflow" }])).status).toBe(200);
  });

  test("fuzzed workflow requests never get a 5xx, and every error is a known code", async () => {
    await using server = await startTestServer({ maxBodyBytes: 4096 });
    await call(server, "POST", "/v1/workflows", { type: "pipeline", queue: "q", id: "wf" });
    const commands = [
      [{ kind: "startTimer", seq: 1, durationMs: 5 }],
      [{ kind: "scheduleActivity", seq: 2, type: "t", options: { queue: "" } }],
      [{ kind: "createSession", seq: 3, options: {} }],
      [{ kind: "completeWorkflow", result: { nested: [1, null] } }],
      [{ kind: "nope" }],
    ];
    await fuzzRequests(server, {
      seed: 11,
      requests: 400,
      maxKeys: 4,
      paths: [
        "/v1/workflows", "/v1/workflows?state=running&limit=5", "/v1/workflows?limit=-1", "/v1/workflows/wf", "/v1/workflows/wf?waitMs=abc",
        "/v1/workflows/wf/history?after=x", "/v1/workflows/wf/history?after=1", "/v1/workflows/wf/signal", "/v1/workflows/wf/cancel",
        "/v1/workflows/wf/task-complete", "/v1/workflows/wf/explain", "/v1/workflows/%ZZ", "/v1/workflows/a/b/c",
      ],
      values: [null, true, 0, -1, 1e308, "", "x", "30s", "pipeline", "a".repeat(300), [], [{}], {}, ...commands, "fresh", "reject", "new"],
      keys: ["type", "queue", "input", "id", "ifExists", "stickyTimeout", "name", "payload", "reason", "taskId", "leaseToken", "seenUpTo", "commands", "mode", "blockedOn", "__proto__"],
    });
    expect((await call(server, "GET", "/readyz")).status).toBe(200);
  });
});
