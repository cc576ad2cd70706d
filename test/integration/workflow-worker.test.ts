/**
 * The workflow runtime of `tqd work` against a real in-process server, on the real clock:
 * workflow tasks answered fresh, from the sticky cache and by replay; timers, signals and
 * sessions end to end; a nondeterministic code change reported as such and fixed by
 * redeploying; held sessions failed at once when their worker stops.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../lib/clock/clock.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { createLogger } from "../../lib/log/logger.ts";
import type { WorkflowEvent, WorkflowView } from "../../lib/protocol/index.ts";
import { createWorker, SessionFailedError, type HandlerMap, type WorkerOptions, type WorkflowMap } from "../../lib/worker/index.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

interface LogRecord {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function workerFor(server: TestServer, handlers: HandlerMap, workflows: WorkflowMap, options: Partial<WorkerOptions> = {}) {
  const logs: LogRecord[] = [];
  const worker = createWorker({
    client: new TqdClient({ baseUrl: server.url, transportRetries: 0 }),
    clock: systemClock,
    log: createLogger({ write: (line) => logs.push(JSON.parse(line) as LogRecord), format: "json", level: "debug" }),
    handlers,
    workflows,
    queues: ["q"],
    concurrency: 4,
    maxSessions: 10,
    identity: "wf-worker",
    host: "wf-host",
    graceMs: 5_000,
    pollWaitMs: 1_000,
    ...options,
  });
  return { worker, logs };
}

/** Waits (server-side long poll) until the workflow is closed. */
async function closedWorkflow(server: TestServer, id: string): Promise<WorkflowView> {
  for (;;) {
    const view = await server.client.getWorkflow(id, { waitMs: 10_000 });
    if (view.state !== "running") return view;
  }
}

async function historyOf(server: TestServer, id: string): Promise<WorkflowEvent[]> {
  return (await server.client.workflowHistory(id)).events;
}

/** Polls `probe` until it returns a value, for at most `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const activities: HandlerMap = {
  double: async (input: number) => input * 2,
  where: async (_input, ctx) => ({ queue: ctx.queue }),
};

describe("workflows on a worker against a real server", () => {
  it("runs activities, a timer and a signal to completion; the first task is fresh, the rest come from the cache", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, activities, {
      pipeline: async (ctx, input: { n: number }) => {
        const doubled = await ctx.activity<number>("double", input.n);
        const both = await Promise.all([ctx.activity<number>("double", doubled), ctx.activity<number>("double", 1)]);
        await ctx.sleep("50ms");
        const go = await ctx.signal<{ by: string }>("go");
        return { doubled, both, by: go.by, id: ctx.uuid().length };
      },
    });
    await worker.start();
    await server.client.startWorkflow({ type: "pipeline", queue: "q", input: { n: 3 }, id: "wf-1" });
    await eventually(async () => ((await server.client.getWorkflow("wf-1")).blockedOn.includes('signal "go"') ? true : undefined), "the workflow to wait for its signal");
    await server.client.signalWorkflow("wf-1", { name: "go", payload: { by: "ada" } });
    const view = await closedWorkflow(server, "wf-1");
    expect(view).toMatchObject({ state: "completed", result: { doubled: 6, both: [12, 2], by: "ada", id: 36 } });
    const modes = (await historyOf(server, "wf-1")).flatMap((event) => (event.kind === "workflowTask.completed" ? [event.mode] : []));
    expect(modes[0]).toBe("fresh");
    expect(modes.slice(1).every((mode) => mode === "cached")).toBe(true);
    await worker.stop();
  });

  it("replays from history on every task when the cache is off, with the same result", async () => {
    await using server = await startTestServer();
    const { worker, logs } = workerFor(
      server,
      activities,
      {
        chain: async (ctx, input: number) => {
          let value = input;
          for (let step = 0; step < 3; step++) value = await ctx.activity<number>("double", value);
          return { value, at: ctx.now().getTime() > 0 };
        },
      },
      { workflowCacheSize: 0 },
    );
    await worker.start();
    await server.client.startWorkflow({ type: "chain", queue: "q", input: 1, id: "wf-2" });
    expect(await closedWorkflow(server, "wf-2")).toMatchObject({ state: "completed", result: { value: 8, at: true } });
    const modes = (await historyOf(server, "wf-2")).flatMap((event) => (event.kind === "workflowTask.completed" ? [event.mode] : []));
    expect(modes).toEqual(["fresh", "replay", "replay", "replay"]);
    expect(logs.filter((record) => record.msg === "workflow replayed from its history")).toHaveLength(3);
    await worker.stop();
  });

  it("runs a session's activities on the worker holding it, and releases the session when the workflow completes it", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, activities, {
      sessioned: async (ctx) => {
        const session = await ctx.createSession({ queue: "q", heartbeatTimeout: "3s" });
        const first = await session.activity<{ queue: string }>("where");
        const second = await session.activity<number>("double", 21);
        session.complete();
        return { first, second, workerQueue: session.workerQueue };
      },
    });
    await worker.start();
    await server.client.startWorkflow({ type: "sessioned", queue: "q", id: "wf-3" });
    const view = await closedWorkflow(server, "wf-3");
    expect(view).toMatchObject({ state: "completed", result: { first: { queue: "q@worker:wf-worker" }, second: 42, workerQueue: "q@worker:wf-worker" } });
    const kinds = (await historyOf(server, "wf-3")).map((event) => event.kind);
    expect(kinds).toContain("session.created");
    expect(kinds).toContain("session.completed");
    expect(kinds).not.toContain("session.failed");
    // The holder learns of the release from its next heartbeat (every second here).
    await eventually(async () => (worker.heldSessions === 0 ? true : undefined), "the session holder to end");
    await worker.stop();
  });

  it("fails the session of a worker that stops at once, so the workflow retries on another worker's session", async () => {
    await using server = await startTestServer();
    const workflows: WorkflowMap = {
      retrying: async (ctx) => {
        for (let attempt = 1; ; attempt++) {
          try {
            const session = await ctx.createSession({ queue: "q", heartbeatTimeout: "60s" });
            await ctx.signal("proceed");
            return { attempt, worker: session.worker, done: await session.activity<number>("double", attempt) };
          } catch (error) {
            if (!(error instanceof SessionFailedError) || attempt >= 3) throw error;
          }
        }
      },
    };
    const first = workerFor(server, activities, workflows, { identity: "first" });
    await first.worker.start();
    await server.client.startWorkflow({ type: "retrying", queue: "q", id: "wf-4", stickyTimeout: "200ms" });
    await eventually(async () => (first.worker.heldSessions === 1 ? true : undefined), "the first worker to hold the session");
    await eventually(async () => ((await server.client.getWorkflow("wf-4")).blockedOn.includes('signal "proceed"') ? true : undefined), "the workflow to wait");
    const second = workerFor(server, activities, workflows, { identity: "second" });
    await second.worker.start();
    const stoppedAt = Date.now();
    await first.worker.stop();
    // Failed by the stopping worker, not by the 60 s heartbeat timeout.
    await eventually(async () => ((await historyOf(server, "wf-4")).some((event) => event.kind === "session.failed") ? true : undefined), "session.failed");
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    // The code learns of the failure when it next uses the session, and starts a new one.
    await server.client.signalWorkflow("wf-4", { name: "proceed" });
    await eventually(async () => (second.worker.heldSessions === 1 ? true : undefined), "the second worker to hold the new session");
    await server.client.signalWorkflow("wf-4", { name: "proceed" });
    expect(await closedWorkflow(server, "wf-4")).toMatchObject({ state: "completed", result: { attempt: 2, worker: "second", done: 4 } });
    await second.worker.stop();
  });

  it("reports a nondeterministic code change as such, and the workflow completes once the original code is back", async () => {
    await using server = await startTestServer();
    const original: WorkflowMap = {
      versioned: async (ctx) => {
        await ctx.activity("double", 1);
        const go = await ctx.signal<string>("go");
        await ctx.activity("double", 2);
        return go;
      },
    };
    const changed: WorkflowMap = {
      versioned: async (ctx) => {
        await ctx.sleep("10ms"); // a new first step: not what the history recorded
        await ctx.activity("double", 1);
        return ctx.signal<string>("go");
      },
    };
    const v1 = workerFor(server, activities, original, { identity: "v1" });
    await v1.worker.start();
    await server.client.startWorkflow({ type: "versioned", queue: "q", id: "wf-5", stickyTimeout: "200ms" });
    await eventually(async () => ((await server.client.getWorkflow("wf-5")).blockedOn.includes('signal "go"') ? true : undefined), "the workflow to wait");
    await v1.worker.stop();

    const v2 = workerFor(server, activities, changed, { identity: "v2" });
    await v2.worker.start();
    await server.client.signalWorkflow("wf-5", { name: "go", payload: "now" });
    const failed = await eventually(async () => {
      const view = await server.client.getWorkflow("wf-5");
      return view.workflowTask?.error?.type === "nondeterminism" ? view : undefined;
    }, "the nondeterminism to be reported");
    expect(failed.state).toBe("running");
    expect(failed.workflowTask?.error?.message).toBe('nondeterminism: at command 1 history has activity "double" (seq 1) but the code issued timer of 10 ms (seq 1)');
    await v2.worker.stop();

    const fixed = workerFor(server, activities, original, { identity: "v1-again" });
    await fixed.worker.start();
    expect(await closedWorkflow(server, "wf-5")).toMatchObject({ state: "completed", result: "now" });
    await fixed.worker.stop();
  });
});
