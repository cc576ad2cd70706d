/**
 * The worker runtime against a real in-process server (SQLite in a temp dir, HTTP on port 0),
 * on the real clock. Unit tests cover the timing rules with a fake clock; these check that the
 * worker and the server agree on the protocol.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../lib/clock/clock.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { createLogger } from "../../lib/log/logger.ts";
import type { TaskView } from "../../lib/protocol/index.ts";
import { createWorker, shellHandler, type HandlerMap, type WorkerOptions } from "../../lib/worker/index.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

interface LogRecord {
  level: string;
  msg: string;
}

function workerFor(server: TestServer, handlers: HandlerMap, options: Partial<WorkerOptions> = {}) {
  const logs: LogRecord[] = [];
  const worker = createWorker({
    client: new TqdClient({ baseUrl: server.url, transportRetries: 0 }),
    clock: systemClock,
    log: createLogger({ write: (line) => logs.push(JSON.parse(line) as LogRecord), format: "json", level: "debug" }),
    handlers,
    queues: ["q"],
    concurrency: 4,
    identity: "integration-worker",
    graceMs: 5_000,
    pollWaitMs: 1_000,
    ...options,
  });
  return { worker, logs };
}

/** Waits (server-side long poll) until the task is final. */
async function finalTask(server: TestServer, id: string): Promise<TaskView> {
  for (;;) {
    const task = await server.client.getTask(id, { waitMs: 10_000 });
    if (task.state === "completed" || task.state === "failed") return task;
  }
}

describe("worker against a real server", () => {
  it("completes tasks with handler results and fails them with thrown errors", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, {
      greet: async (input: { name: string }, ctx) => ({ greeting: `Hello, ${input.name}!`, attempt: ctx.attempt }),
      explode: async () => {
        throw new RangeError("value out of range");
      },
    });
    await worker.start();
    const names = Array.from({ length: 12 }, (_, n) => `n${n}`);
    const greets = await Promise.all(names.map((name) => server.client.enqueue("q", { type: "greet", input: { name } })));
    const explode = await server.client.enqueue("q", { type: "explode" });
    for (const [index, enqueued] of greets.entries()) {
      const task = await finalTask(server, enqueued.id);
      expect(task).toMatchObject({ state: "completed", result: { greeting: `Hello, ${names[index]}!`, attempt: 1 }, worker: "integration-worker" });
    }
    expect(await finalTask(server, explode.id)).toMatchObject({ state: "failed", error: { type: "RangeError", message: "value out of range" } });
    expect(await worker.stop()).toEqual({ abandoned: 0 });
  });

  it("never runs more tasks at once than its concurrency, across queues", async () => {
    await using server = await startTestServer();
    let running = 0;
    let mostRunning = 0;
    const { worker } = workerFor(
      server,
      {
        work: async () => {
          mostRunning = Math.max(mostRunning, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
        },
      },
      { concurrency: 3, queues: ["a", "b"] },
    );
    let leased = 0;
    let mostLeased = 0;
    server.daemon.events.on("task.dispatched", () => (mostLeased = Math.max(mostLeased, ++leased)));
    server.daemon.events.on("task.finished", () => leased--);
    await worker.start();
    const enqueued = await Promise.all(
      Array.from({ length: 30 }, (_, n) => server.client.enqueue(n % 2 ? "a" : "b", { type: "work" })),
    );
    for (const task of enqueued) expect((await finalTask(server, task.id)).state).toBe("completed");
    expect(mostRunning).toBeLessThanOrEqual(3);
    expect(mostLeased).toBeLessThanOrEqual(3);
    await worker.stop();
  });

  it("keeps a task past its start-to-close timeout by heartbeating", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, {
      long: async (_input, ctx) => {
        for (let beat = 0; beat < 8; beat++) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          await ctx.heartbeat({ beat });
        }
        return { aborted: ctx.signal.aborted };
      },
    });
    await worker.start();
    const { id } = await server.client.enqueue("q", { type: "long", startToCloseTimeout: "600ms" });
    expect(await finalTask(server, id)).toMatchObject({ state: "completed", attempt: 1, result: { aborted: false }, heartbeatDetails: { beat: 7 } });
    await worker.stop();
  });

  it("aborts ctx.signal when the lease runs out, and the redelivered attempt completes", async () => {
    await using server = await startTestServer();
    const { worker, logs } = workerFor(server, {
      slow: async (_input, ctx) => {
        if (ctx.attempt > 1) return "second attempt";
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        throw ctx.signal.reason;
      },
    });
    await worker.start();
    const { id } = await server.client.enqueue("q", { type: "slow", startToCloseTimeout: "300ms" });
    expect(await finalTask(server, id)).toMatchObject({ state: "completed", attempt: 2, result: "second attempt" });
    expect(logs.filter((record) => record.level === "error")).toEqual([]);
    await worker.stop();
  });

  it("lets a running task finish after stop(), and takes no new ones", async () => {
    await using server = await startTestServer();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    // Waits for the handler, not the server's dispatch event: a poll aborted while its answer is
    // on the wire loses those tasks until their lease expires (see lib/worker/worker.ts).
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const { worker } = workerFor(server, { gated: async () => (started(), await released, "finished") });
    await worker.start();
    const first = await server.client.enqueue("q", { type: "gated" });
    await handlerStarted;
    const stopping = worker.stop();
    const second = await server.client.enqueue("q", { type: "gated" });
    release();
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(await server.client.getTask(first.id)).toMatchObject({ state: "completed", result: "finished" });
    expect(await server.client.getTask(second.id)).toMatchObject({ state: "pending" });
  });

  it("runs --exec commands with the task on stdin and in the environment", async () => {
    await using server = await startTestServer();
    const command = `printf '{"input": %s, "id": "%s", "type": "%s"}' "$(cat)" "$TQD_TASK_ID" "$TQD_TASK_TYPE"`;
    const handler = shellHandler({ command, env: { PATH: process.env.PATH }, cwd: process.cwd(), clock: systemClock });
    const { worker } = workerFor(server, { sh: handler });
    await worker.start();
    const { id } = await server.client.enqueue("q", { type: "sh", id: "exec-1", input: { n: 1 } });
    expect(await finalTask(server, id)).toMatchObject({ state: "completed", result: { input: { n: 1 }, id: "exec-1", type: "sh" } });
    await worker.stop();
  });
});
