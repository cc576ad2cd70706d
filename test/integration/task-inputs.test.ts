/**
 * Inputs of pending tasks stay in the store, not in memory, beyond a small budget (see
 * LiveTask.inputJson): the daemon reads each one back when the task is dispatched or read. These
 * tests run with no budget, so every input comes from the store, and check that every way a
 * task comes to be dispatched delivers its own input: a backlog, a restart, a retry, a task
 * given back, a requeued dead letter and a workflow's activity.
 */
import { describe, expect, test } from "vitest";
import { FakeClock } from "../support/fake-clock.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

interface Leased {
  id: string;
  type: string;
  input?: unknown;
  attempt: number;
  leaseToken: string;
}

function call(server: TestServer, method: string, path: string, body?: unknown) {
  return server.fetch(new Request("http://tqd.test" + path, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
}

async function poll(server: TestServer, types = ["t"], max = 10, queue = "q"): Promise<Leased[]> {
  const response = await call(server, "POST", `/v1/queues/${queue}/poll`, { identity: "w1", types, waitMs: 0, max });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: Leased[] }).tasks;
}

async function enqueue(server: TestServer, tasks: object[]): Promise<void> {
  expect((await call(server, "POST", "/v1/queues/q/tasks/batch", { tasks })).status).toBe(201);
}

const inputsOf = (tasks: Leased[]) => Object.fromEntries(tasks.map((task) => [task.id, task.input]));

describe("task inputs read back at dispatch", () => {
  test("each task of a backlog gets its own input, before and after a restart; a task without one gets none", async () => {
    await using dir = await tempDir();
    const ids = Array.from({ length: 6 }, (_, i) => `t${i}`);
    {
      await using server = await startTestServer({ dataDir: dir.path, pendingInputChars: 0 });
      await enqueue(server, ids.map((id, i) => (i === 5 ? { id, type: "t" } : { id, type: "t", input: { n: i, text: `input of ${id}` } })));
      const view = await (await call(server, "GET", "/v1/tasks/t1")).json();
      expect(view).toMatchObject({ state: "pending", input: { n: 1, text: "input of t1" } });
      expect(inputsOf(await poll(server, ["t"], 2))).toEqual({ t0: { n: 0, text: "input of t0" }, t1: { n: 1, text: "input of t1" } });
    }
    await using server = await startTestServer({ dataDir: dir.path, pendingInputChars: 0 });
    expect((await (await call(server, "GET", "/v1/tasks/t0")).json()).input).toEqual({ n: 0, text: "input of t0" });
    const after = await poll(server);
    expect(inputsOf(after)).toEqual({ t2: { n: 2, text: "input of t2" }, t3: { n: 3, text: "input of t3" }, t4: { n: 4, text: "input of t4" }, t5: undefined });
    expect(after.find((task) => task.id === "t5")).not.toHaveProperty("input");
  });

  test("a retried attempt and a task given back get their input again", async () => {
    const clock = new FakeClock();
    await using server = await startTestServer({ clock, pendingInputChars: 0 });
    await enqueue(server, [{ id: "r", type: "t", input: { retry: true } }, { id: "g", type: "g", input: { given: "back" } }]);
    const [first] = await poll(server);
    await call(server, "POST", `/v1/tasks/r/fail`, { leaseToken: first!.leaseToken, error: { type: "E", message: "again" } });
    await clock.advance(1_000);
    expect(await poll(server)).toMatchObject([{ id: "r", attempt: 2, input: { retry: true } }]);

    const [given] = await poll(server, ["g"]);
    expect((await call(server, "POST", "/v1/tasks/release", { tasks: [{ id: "g", leaseToken: given!.leaseToken }] })).status).toBe(200);
    expect(await poll(server, ["g"])).toMatchObject([{ id: "g", input: { given: "back" } }]);
  });

  test("a requeued dead letter gets its input", async () => {
    await using server = await startTestServer({ pendingInputChars: 0 });
    await enqueue(server, [{ id: "d", type: "t", input: { dead: "letter" }, retryPolicy: { maxAttempts: 1 } }]);
    const [leased] = await poll(server);
    await call(server, "POST", "/v1/tasks/d/fail", { leaseToken: leased!.leaseToken, error: { type: "E", message: "m" } });
    expect(await (await call(server, "POST", "/v1/queues/q/dead/requeue", { ids: ["d"] })).json()).toEqual({ requeued: ["d"] });
    expect(await poll(server)).toMatchObject([{ id: "d", attempt: 2, input: { dead: "letter" } }]);
  });

  test("a workflow's activity gets its input after a restart", async () => {
    await using dir = await tempDir();
    {
      await using server = await startTestServer({ dataDir: dir.path, pendingInputChars: 0 });
      await call(server, "POST", "/v1/workflows", { type: "w", queue: "q", id: "wf" });
      const [workflowTask] = await poll(server, ["tqd.workflow:w"]);
      expect(workflowTask!.input).toEqual({ workflowId: "wf", workflowType: "w" });
      const commands = [{ kind: "scheduleActivity", seq: 1, type: "a", input: { step: "one" } }];
      const answered = await call(server, "POST", "/v1/workflows/wf/task-complete", { taskId: workflowTask!.id, leaseToken: workflowTask!.leaseToken, seenUpTo: 1, commands, mode: "fresh" });
      expect(answered.status).toBe(200);
    }
    await using server = await startTestServer({ dataDir: dir.path, pendingInputChars: 0 });
    expect(await poll(server, ["a"])).toMatchObject([{ type: "a", input: { step: "one" } }]);
  });
});
