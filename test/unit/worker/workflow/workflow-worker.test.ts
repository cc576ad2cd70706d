import { describe, expect, it } from "vitest";
import { TqdApiError } from "../../../../lib/client/index.ts";
import type { LeasedTask, WorkflowState } from "../../../../lib/protocol/index.ts";
import type { Workflow, WorkflowMap } from "../../../../lib/worker/index.ts";
import { deferred, setup, type WorkerTestBundle } from "../worker-test-bundle.ts";
import { history, type HistoryBuilder } from "./history-builder.ts";

// One macrotask turn: lets every pending promise job run, to show that nothing further happens.
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Resolves once `predicate` holds, checking after each macrotask turn; fails after `turns` of them. */
async function eventually(predicate: () => boolean, what: string, turns = 1_000): Promise<void> {
  for (let turn = 0; !predicate(); turn++) {
    if (turn >= turns) throw new Error(`gave up waiting for ${what}`);
    await settle();
  }
}

/**
 * Plays the server's workflow routes over the fake client: histories by workflow id, each
 * answer recorded as the server records it (marker, then one event per command).
 */
class FakeWorkflowServer {
  readonly histories = new Map<string, HistoryBuilder>();
  readonly states = new Map<string, WorkflowState>();
  private tasks = 0;

  constructor(private readonly b: WorkerTestBundle) {
    b.client.historyBehaviour = async ({ id, after }) => {
      const h = this.histories.get(id);
      if (!h) throw new TqdApiError(404, "not_found", `workflow ${id} not found`);
      return { id, type: "wf", queue: "q", state: this.states.get(id) ?? "running", lastEventId: h.lastId, events: h.after(after ?? 0) };
    };
    b.client.taskCompleteBehaviour = async ({ id, request }) => {
      const h = this.histories.get(id)!;
      h.recordAnswer({ commands: request.commands, seenUpTo: request.seenUpTo, blockedOn: [], closes: false });
      const closes = request.commands.some((command) => command.kind === "completeWorkflow" || command.kind === "failWorkflow");
      if (closes) this.states.set(id, "completed");
      return { lastEventId: h.lastId, state: this.states.get(id) ?? "running" };
    };
  }

  start(id: string, input?: unknown): HistoryBuilder {
    const h = history().started(input);
    this.histories.set(id, h);
    return h;
  }

  /** A workflow task for `id`, as a poll would lease it. */
  task(id: string, workflowType = "wf"): LeasedTask {
    this.tasks += 1;
    return this.b.aLeasedTask({ id: `wft-${this.tasks}`, type: `tqd.workflow:${workflowType}`, input: { workflowId: id, workflowType }, leaseDeadline: new Date(this.b.clock.now() + 10_000).toISOString() });
  }
}

const threeSteps: Workflow = async (ctx, input: { name: string }) => {
  const a = await ctx.activity<string>("download", input);
  const b = await ctx.activity<string>("process", a);
  return ctx.activity("upload", b);
};

async function workflowWorker(workflows: WorkflowMap, options: Parameters<typeof setup>[1] = {}) {
  const b = setup({ t: async () => "ok" }, { workflows, ...options });
  const server = new FakeWorkflowServer(b);
  await b.worker.start();
  return { b, server };
}

/** Answers the next base-queue poll with `tasks`. */
async function deliver(b: WorkerTestBundle, ...tasks: LeasedTask[]): Promise<void> {
  await b.client.polls.until(() => b.client.openPolls.length > 0);
  b.client.openPolls[0]!.answer(tasks);
}

describe("workflow tasks", () => {
  it("names tqd.workflow:<Type> in the polls of all three queues", async () => {
    const { b } = await workflowWorker({ wf: threeSteps, other: threeSteps });
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 2);
    const types = ["t", "tqd.workflow:wf", "tqd.workflow:other"];
    expect((await b.client.polls.next()).request.types).toEqual(types);
    for (const call of b.client.openOwnPolls) expect(call.request.types).toEqual(types);
    await b.worker.stop();
  });

  it("answers a first task fresh, then the next from the cache, reading only the events after its seenUpTo", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps }, { concurrency: 3 });
    const h = server.start("wf-1", { name: "a.csv" });
    await deliver(b, server.task("wf-1"));
    const first = await b.client.taskCompletes.next();
    expect(b.client.histories.calls).toEqual([{ id: "wf-1", after: 0 }]);
    expect(first.request).toEqual({
      taskId: "wft-1",
      leaseToken: expect.any(String),
      seenUpTo: 1,
      commands: [{ kind: "scheduleActivity", seq: 1, type: "download", input: { name: "a.csv" } }],
      mode: "fresh",
      blockedOn: ['activity "download" (seq 1)'],
    });
    h.completed(1, "/tmp/a.csv");
    await deliver(b, server.task("wf-1"));
    const second = await b.client.taskCompletes.next();
    expect(b.client.histories.calls[1]).toEqual({ id: "wf-1", after: 1 });
    expect(second.request).toMatchObject({ seenUpTo: 4, mode: "cached", commands: [{ kind: "scheduleActivity", seq: 2, type: "process", input: "/tmp/a.csv" }] });
    expect(b.logged("debug", "answered from the cache")).toHaveLength(1);
    await eventually(() => b.worker.runningTasks === 0, "the workflow task to end");
    await b.worker.stop();
  });

  it("runs a task that arrives before the previous task's answer was acknowledged after it, from the cache", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps });
    const h = server.start("wf-1", { name: "a" });
    const record = b.client.taskCompleteBehaviour;
    const acknowledged = deferred();
    b.client.taskCompleteBehaviour = async (call) => {
      const response = await record(call);
      await acknowledged.promise; // recorded, and the next task dispatched, before the answer arrives
      return response;
    };
    await deliver(b, server.task("wf-1"));
    await b.client.taskCompletes.next();
    h.completed(1, "x");
    await deliver(b, server.task("wf-1"));
    await settle();
    expect(b.client.histories.calls).toHaveLength(1); // the second task waits for the first
    b.client.taskCompleteBehaviour = record;
    acknowledged.resolve();
    expect((await b.client.taskCompletes.next()).request.mode).toBe("cached");
    await b.worker.stop();
  });

  it("replays from history when another worker answered a task meanwhile", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps });
    const h = server.start("wf-1", { name: "a" });
    await deliver(b, server.task("wf-1"));
    await b.client.taskCompletes.next();
    h.completed(1, "x").marker().scheduled(2, "process").completed(2, "y"); // another worker's answer, and what followed
    const lastId = h.lastId;
    await deliver(b, server.task("wf-1"));
    const answer = await b.client.taskCompletes.next();
    expect(b.client.histories.calls.map((call) => call.after)).toEqual([0, 1, 0]);
    expect(answer.request).toMatchObject({ mode: "replay", seenUpTo: lastId, commands: [{ kind: "scheduleActivity", seq: 3, type: "upload", input: "y" }] });
    expect(b.logged("debug", "does not fit its history; replaying")).toHaveLength(1);
    expect(b.logged("debug", "workflow replayed from its history")).toHaveLength(1);
    await b.worker.stop();
  });

  it("fails a task whose replay does not match the history with the error type nondeterminism, and drops the execution", async () => {
    const changed: Workflow = async (ctx) => {
      await ctx.sleep("2s");
    };
    const { b, server } = await workflowWorker({ wf: changed });
    server.start("wf-1").marker().scheduled(1, "download");
    server.histories.get("wf-1")!.completed(1, "x");
    await deliver(b, server.task("wf-1"));
    const fail = await b.client.fails.next();
    expect(fail).toMatchObject({
      id: "wft-1",
      error: { type: "nondeterminism", message: 'nondeterminism: at command 1 history has activity "download" (seq 1) but the code issued timer of 2000 ms (seq 1)' },
    });
    expect(fail.error.nonRetryable).toBeUndefined();
    expect(b.client.taskCompletes.calls).toEqual([]);
    expect(b.logged("warn", "workflow task failed")).toHaveLength(1);
    await b.worker.stop();
  });

  it("fails the task with the runtime's error when the history cannot be replayed", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps });
    server.histories.set("wf-1", history().signal("no start"));
    await deliver(b, server.task("wf-1"));
    expect((await b.client.fails.next()).error).toEqual({ type: "InvalidHistoryError", message: "the history does not begin with workflow.started" });
    await b.worker.stop();
  });

  it("drops the cached execution when the server refuses the answer with 409, and replays the next task", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps });
    const h = server.start("wf-1", { name: "a" });
    const record = b.client.taskCompleteBehaviour;
    b.client.taskCompleteBehaviour = async (call) => {
      await record(call); // recorded, but the answer is lost: as if the lease had expired first
      throw new TqdApiError(409, "conflict", "task wft-1 is not the current workflow task");
    };
    await deliver(b, server.task("wf-1"));
    await b.client.taskCompletes.next();
    await eventually(() => b.logged("warn", "refused the workflow task's answer").length === 1, "the refusal to be logged");
    b.client.taskCompleteBehaviour = record;
    h.completed(1, "x");
    await deliver(b, server.task("wf-1"));
    expect((await b.client.taskCompletes.next()).request.mode).toBe("replay");
    expect(b.client.histories.calls.map((call) => call.after)).toEqual([0, 0]);
    await b.worker.stop();
  });

  it("keeps at most --workflow-cache executions, dropping the least recently used", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps }, { workflowCacheSize: 1 });
    for (const id of ["wf-a", "wf-b"]) {
      server.start(id, { name: id });
      await deliver(b, server.task(id));
      await b.client.taskCompletes.next();
      server.histories.get(id)!.completed(1, "x");
    }
    await deliver(b, server.task("wf-b"));
    expect((await b.client.taskCompletes.next()).request.mode).toBe("cached");
    await deliver(b, server.task("wf-a"));
    expect((await b.client.taskCompletes.next()).request.mode).toBe("replay");
    await b.worker.stop();
  });

  it("completes the workflow with the function's result and keeps no execution of a closed workflow", async () => {
    const { b, server } = await workflowWorker({ wf: async (ctx) => ({ id: ctx.workflowId, type: ctx.workflowType }) });
    server.start("wf-1");
    await deliver(b, server.task("wf-1"));
    expect((await b.client.taskCompletes.next()).request.commands).toEqual([{ kind: "completeWorkflow", result: { id: "wf-1", type: "wf" } }]);
    // A late task of the closed workflow: failed at once, so the server can drop it.
    await deliver(b, server.task("wf-1"));
    expect((await b.client.fails.next()).error).toEqual({ type: "WorkflowClosed", message: "workflow wf-1 is already completed" });
    expect(b.client.histories.calls.map((call) => call.after)).toEqual([0, 0]);
    await b.worker.stop();
  });

  it("fails a task of a workflow type it does not have, or with a malformed input", async () => {
    const { b, server } = await workflowWorker({ wf: threeSteps });
    await deliver(b, server.task("wf-1", "unknown"), { ...server.task("wf-2"), input: "nonsense" });
    await b.client.fails.until(() => b.client.fails.calls.length === 2);
    expect(b.client.fails.calls.map((call) => call.error.type).sort()).toEqual(["InvalidWorkflowTask", "UnknownWorkflowType"]);
    await b.worker.stop();
  });

  it("runs a module with workflows and no task handlers", async () => {
    const b = setup({}, { workflows: { wf: threeSteps } });
    await b.worker.start();
    expect((await b.client.polls.next()).request.types).toEqual(["tqd.workflow:wf"]);
    await b.worker.stop();
  });
});

/** A session holder task as a base-queue poll would lease it. */
function holder(b: WorkerTestBundle, fields: Partial<LeasedTask> = {}): LeasedTask {
  return b.aLeasedTask({
    type: "tqd.session",
    input: { workflowId: "wf-1", seq: 1, queue: "q" },
    heartbeatTimeoutMs: 3_000,
    leaseDeadline: new Date(b.clock.now() + 3_000).toISOString(),
    ...fields,
  });
}

function answerHeartbeats(b: WorkerTestBundle, cancelRequested: () => boolean): void {
  b.client.heartbeatBehaviour = async () => ({ leaseDeadline: new Date(b.clock.now() + 3_000).toISOString(), cancelRequested: cancelRequested() });
}

describe("sessions", () => {
  it("names tqd.session in base-queue polls only, and only when the worker holds sessions", async () => {
    const without = setup({ t: async () => {} });
    await without.worker.start();
    expect((await without.client.polls.next()).request.types).toEqual(["t"]);
    await without.worker.stop();
    const b = setup({ t: async () => {} }, { maxSessions: 5 });
    await b.worker.start();
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 2);
    expect((await b.client.polls.next()).request.types).toEqual(["t", "tqd.session"]);
    for (const call of b.client.openOwnPolls) expect(call.request.types).toEqual(["t"]);
    await b.worker.stop();
  });

  it("holds a session without a concurrency slot, heartbeating every third of its heartbeat timeout, until cancel is requested", async () => {
    const b = setup({ t: async () => {} }, { maxSessions: 5, concurrency: 3 });
    let release = false;
    answerHeartbeats(b, () => release);
    await b.worker.start();
    const session = holder(b);
    await deliver(b, session);
    // The holder gave its slot back: the base queue polls again at once.
    await b.client.polls.until(() => b.client.openPolls.length === 1);
    expect(b.worker.heldSessions).toBe(1);
    expect(b.worker.runningTasks).toBe(0);
    await b.clock.advance(999);
    expect(b.client.heartbeats.calls).toEqual([]);
    await b.clock.advance(1);
    expect(b.client.heartbeats.calls).toEqual([{ id: session.id, leaseToken: session.leaseToken, details: undefined }]);
    await b.clock.advance(1_000);
    expect(b.client.heartbeats.calls).toHaveLength(2);
    release = true;
    await b.clock.advance(1_000);
    const done = await b.client.completes.next();
    expect(done).toEqual({ id: session.id, leaseToken: session.leaseToken, result: undefined });
    expect(b.worker.heldSessions).toBe(0);
    expect(b.logged("info", "session released")).toHaveLength(1);
    await b.worker.stop();
  });

  it("stops naming tqd.session at --max-sessions, and asks for no more tasks than free session slots", async () => {
    const b = setup({ t: async () => {} }, { maxSessions: 1, concurrency: 6 });
    answerHeartbeats(b, () => false);
    await b.worker.start();
    await deliver(b, holder(b));
    await b.client.polls.until(() => b.client.openPolls.length === 1);
    expect(b.client.openPolls[0]!.request.types).toEqual(["t"]);
    await b.worker.stop();
  });

  it("ends a session without a report when the server no longer holds its lease", async () => {
    const b = setup({ t: async () => {} }, { maxSessions: 2 });
    b.client.heartbeatBehaviour = async () => {
      throw new TqdApiError(409, "conflict", "stale lease");
    };
    await b.worker.start();
    await deliver(b, holder(b));
    await b.client.polls.until(() => b.client.openPolls.length === 1);
    await b.clock.advance(1_000);
    await settle();
    expect(b.worker.heldSessions).toBe(0);
    expect(b.logged("warn", "session lost")).toHaveLength(1);
    expect([...b.client.completes.calls, ...b.client.fails.calls]).toEqual([]);
    // The freed slot brings tqd.session back into the next poll.
    b.client.openPolls[0]!.answer([]);
    expect((await b.client.polls.next()).request.types).toContain("tqd.session");
    await b.worker.stop();
  });

  it("on stop, heartbeats held sessions through the drain, then reports them failed, non-retryable", async () => {
    const b = setup({ t: async () => {} }, { maxSessions: 2 });
    answerHeartbeats(b, () => false);
    await b.worker.start();
    const session = holder(b);
    await deliver(b, session);
    await b.client.polls.until(() => b.client.openPolls.length === 1);
    const stopped = b.worker.stop();
    const fail = await b.client.fails.next();
    expect(fail).toEqual({
      id: session.id,
      leaseToken: session.leaseToken,
      error: { type: "WorkerStopped", message: "worker test-worker stopped while holding the session", nonRetryable: true },
    });
    expect(await stopped).toEqual({ abandoned: 0 });
    expect(b.worker.heldSessions).toBe(0);
  });
});
