/**
 * The worker runtime against a real in-process server (SQLite in a temp dir, HTTP on port 0),
 * on the real clock. Unit tests cover the timing rules with a fake clock; these check that the
 * worker and the server agree on the protocol.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../lib/clock/clock.ts";
import { STREAM_FRAME_MAX_CHARS, TqdClient } from "../../lib/client/index.ts";
import { createLogger, silentLogger } from "../../lib/log/logger.ts";
import { decodeCompletionToken, isFinalStateName, type TaskView } from "../../lib/protocol/index.ts";
import {
  createWorker,
  NON_RETRYABLE_EXIT_CODE,
  NonRetryableError,
  shellHandler,
  StreamingWorkerClient,
  type HandlerMap,
  type WorkerClient,
  type WorkerOptions,
} from "../../lib/worker/index.ts";
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
    host: "integration-host",
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
    if (isFinalStateName(task.state)) return task;
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
    const explode = await server.client.enqueue("q", { type: "explode", retryPolicy: { maxAttempts: 1 } });
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

  it("over the worker stream, an outcome too large for a frame is reported over HTTP: a result past --max-body fails the attempt, and the rest completes", async () => {
    await using server = await startTestServer();
    const client = new StreamingWorkerClient(new TqdClient({ baseUrl: server.url, transportRetries: 0 }), silentLogger);
    const { worker, logs } = workerFor(server, { big: async () => "x".repeat(STREAM_FRAME_MAX_CHARS), huge: async () => "x".repeat(3 << 20), small: async () => "ok" }, { client });
    await worker.start();
    const ids = (await server.client.enqueueBatch("q", [{ type: "big" }, { type: "huge", retryPolicy: { maxAttempts: 1 } }, { type: "small" }])).tasks.map((task) => task.id);
    const [big, huge, small] = await Promise.all(ids.map((id) => finalTask(server, id)));
    expect(big).toMatchObject({ state: "completed" });
    expect((big!.result as string).length).toBe(STREAM_FRAME_MAX_CHARS);
    expect(huge).toMatchObject({ state: "failed", error: { type: "ResultRejected", message: expect.stringContaining("larger than the limit") } });
    expect(small).toMatchObject({ state: "completed", result: "ok" });
    expect(logs.filter((record) => record.level === "error")).toEqual([]);
    await worker.stop();
    client.close();
  });

  it("over the worker stream, reuses a slot while its outcome commits, yet the server never has more of the worker's tasks without an outcome than its slots", async () => {
    await using server = await startTestServer();
    let running = 0;
    let mostRunning = 0;
    const client = new StreamingWorkerClient(new TqdClient({ baseUrl: server.url, transportRetries: 0 }), silentLogger);
    const { worker } = workerFor(
      server,
      {
        work: async () => {
          mostRunning = Math.max(mostRunning, ++running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
        },
      },
      // Three slots for three polled queues (q and the worker's host and worker queues): q
      // runs one task at a time, so a dispatch during a commit can only be the slot reused.
      { concurrency: 3, client },
    );
    // Server side: a task counts from its dispatch until its outcome reaches the daemon.
    const withoutOutcome = new Set<string>();
    const committing = new Set<string>();
    let most = 0;
    let dispatchedWhileCommitting = 0;
    const settleMany = server.daemon.settleMany.bind(server.daemon);
    server.daemon.settleMany = (commands) => {
      for (const command of commands) {
        withoutOutcome.delete(command.id);
        committing.add(command.id);
      }
      return settleMany(commands);
    };
    server.daemon.events.on("task.dispatched", ({ id }) => {
      withoutOutcome.add(id);
      most = Math.max(most, withoutOutcome.size);
      if (committing.size > 0) dispatchedWhileCommitting++;
    });
    server.daemon.events.on("task.finished", ({ id }) => committing.delete(id));
    await worker.start();
    const ids = (await server.client.enqueueBatch("q", Array.from({ length: 100 }, () => ({ type: "work" })))).tasks.map((task) => task.id);
    for (const id of ids) expect((await finalTask(server, id)).state).toBe("completed");
    await worker.stop();
    client.close();
    expect(mostRunning).toBeLessThanOrEqual(3);
    expect(most).toBeLessThanOrEqual(3);
    // The point of it: the slot took its next task while the last outcome was still committing.
    expect(dispatchedWhileCommitting).toBeGreaterThan(0);
  });

  it("keeps a task past its heartbeat timeout with throttled heartbeats, and stores the last details", async () => {
    await using server = await startTestServer();
    const real = new TqdClient({ baseUrl: server.url, transportRetries: 0 });
    let heartbeatsSent = 0;
    const client: WorkerClient = {
      poll: (...args) => real.poll(...args),
      complete: (...args) => real.complete(...args),
      fail: (...args) => real.fail(...args),
      heartbeat: (...args) => (heartbeatsSent++, real.heartbeat(...args)),
      leave: (...args) => real.leave(...args),
      release: (...args) => real.release(...args),
      workflowHistory: (...args) => real.workflowHistory(...args),
      completeWorkflowTask: (...args) => real.completeWorkflowTask(...args),
    };
    const { worker } = workerFor(
      server,
      {
        long: async (_input, ctx) => {
          for (let beat = 0; beat < 24; beat++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            await ctx.heartbeat({ beat });
          }
          return { aborted: ctx.signal.aborted };
        },
      },
      { client },
    );
    // 2.4 s of beats against a 2 s heartbeat timeout: sends 1.6 s apart leave 0.4 s for a send's
    // round trip on a loaded machine (a 400 ms timeout left 80 ms, and failed once in a full run).
    const { id } = await server.client.enqueue("q", { type: "long", startToCloseTimeout: "20s", heartbeatTimeout: "2s" });
    await worker.start();
    expect(await finalTask(server, id)).toMatchObject({ state: "completed", attempt: 1, result: { aborted: false }, heartbeatDetails: { beat: 23 } });
    expect(heartbeatsSent).toBeGreaterThan(1);
    expect(heartbeatsSent).toBeLessThan(24); // 24 calls, one send per 1,600 ms window at most
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
    const { id } = await server.client.enqueue("q", { type: "slow", startToCloseTimeout: "300ms", retryPolicy: { initialInterval: "10ms" } });
    expect(await finalTask(server, id)).toMatchObject({ state: "completed", attempt: 2, result: "second attempt" });
    expect(logs.filter((record) => record.level === "error")).toEqual([]);
    await worker.stop();
  });

  it("lets a running task finish after stop(), and takes no new ones", async () => {
    await using server = await startTestServer();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    // Waits for the handler, not the server's dispatch event: a task whose poll answer arrives
    // after stop began is given back unstarted (see lib/worker/worker.ts), not run.
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

  it("fails a NonRetryableError at once, while other errors are retried with ctx.lastHeartbeat to resume from", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, {
      final: async () => {
        throw new NonRetryableError("no such user", { type: "UserNotFound" });
      },
      resumable: async (_input, ctx) => {
        if (ctx.attempt === 1) {
          await ctx.heartbeat({ step: 3 });
          throw new Error("flaky");
        }
        return { resumedFrom: ctx.lastHeartbeat };
      },
    });
    await worker.start();
    const retryPolicy = { maxAttempts: 3, initialInterval: "10ms" };
    const final = await server.client.enqueue("q", { type: "final", retryPolicy });
    const resumable = await server.client.enqueue("q", { type: "resumable", retryPolicy });
    expect(await finalTask(server, final.id)).toMatchObject({ state: "failed", attempt: 1, error: { type: "UserNotFound", message: "no such user" } });
    expect(await finalTask(server, resumable.id)).toMatchObject({ state: "completed", attempt: 2, result: { resumedFrom: { step: 3 } } });
    await worker.stop();
  });

  it(`fails an --exec command that exits ${NON_RETRYABLE_EXIT_CODE} without retry`, async () => {
    await using server = await startTestServer();
    const command = `echo 'bad input' >&2; exit ${NON_RETRYABLE_EXIT_CODE}`;
    const handler = shellHandler({ command, env: { PATH: process.env.PATH }, cwd: process.cwd(), clock: systemClock });
    const { worker } = workerFor(server, { sh: handler });
    await worker.start();
    const { id } = await server.client.enqueue("q", { type: "sh", retryPolicy: { maxAttempts: 3, initialInterval: "10ms" } });
    expect(await finalTask(server, id)).toMatchObject({ state: "failed", attempt: 1, error: { type: "ExitCode" } });
    await worker.stop();
  });

  it("ends a running task canceled once its handler sees the cancellation in a heartbeat answer", async () => {
    await using server = await startTestServer();
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const { worker } = workerFor(server, {
      cancelable: async (_input, ctx) => {
        started();
        while (!ctx.signal.aborted) {
          await ctx.heartbeat({ alive: true });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw ctx.signal.reason;
      },
    });
    await worker.start();
    const { id } = await server.client.enqueue("q", { type: "cancelable" });
    await handlerStarted;
    expect(await server.client.cancel(id)).toMatchObject({ state: "running", cancelRequested: true });
    expect(await finalTask(server, id)).toMatchObject({ state: "canceled", attempt: 1 });
    await worker.stop();
  });

  it("leaves a task handed off with ctx.completeLater() running, frees the slot, and lets the token complete it", async () => {
    await using server = await startTestServer();
    let handOff!: (token: string) => void;
    const handedOff = new Promise<string>((resolve) => (handOff = resolve));
    const { worker } = workerFor(server, { later: async (_input, ctx) => handOff(ctx.completeLater()), now: async () => "done" }, { concurrency: 1 });
    await worker.start();
    const later = await server.client.enqueue("q", { type: "later" });
    const tokenText = await handedOff;
    const now = await server.client.enqueue("q", { type: "now" });
    expect(await finalTask(server, now.id)).toMatchObject({ state: "completed", result: "done" }); // the slot came back
    expect(await server.client.getTask(later.id)).toMatchObject({ state: "running" });
    const token = decodeCompletionToken(tokenText);
    expect(token?.taskId).toBe(later.id);
    await server.client.complete(token!.taskId, token!.leaseToken, { finishedElsewhere: true });
    expect(await finalTask(server, later.id)).toMatchObject({ state: "completed", result: { finishedElsewhere: true } });
    await worker.stop();
  });
});

/** Re-checks `check` (a server call) until it holds, failing after `deadlineMs` of real time. */
async function eventually(check: () => Promise<boolean>, deadlineMs = 5_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("worker queue presence and rates against a real server", () => {
  it("shows in describe with its host, types and declared rate while it polls, and disappears as soon as it stops", async () => {
    await using server = await startTestServer();
    const { worker } = workerFor(server, { a: async () => "a", b: async () => "b" }, { identity: "w-7", host: "test-host", queueRate: "7/s" });
    await worker.start();
    await eventually(async () => (await server.client.describe("q")).pollers.length === 1);
    const described = await server.client.describe("q");
    expect(described.pollers[0]).toMatchObject({ identity: "w-7", host: "test-host", types: ["a", "b"], declaredRatePerSecond: 7 });
    expect(described.rateLimit).toMatchObject({ source: "poller", declaredBy: "w-7", effective: { ratePerSecond: 7 } });
    await worker.stop();
    expect((await server.client.describe("q")).pollers).toEqual([]); // left at once, no expiry wait
  });

  it("takes no more tasks than its --rate allows, leaving the rest to other workers", async () => {
    await using server = await startTestServer();
    let ran = 0;
    // One task an hour (a burst of 1): the first task runs, then the worker waits for a token.
    const { worker } = workerFor(server, { t: async () => void ran++ }, { ratePerSecond: 1 / 3600, concurrency: 4 });
    const enqueued = await server.client.enqueueBatch("q", [{ type: "t" }, { type: "t" }, { type: "t" }]);
    await worker.start();
    await eventually(async () => (await server.client.describe("q")).counts.completed === 1);
    const other = await server.client.poll("q", { identity: "other-worker", types: ["t"], max: 10, waitMs: 0 });
    expect(other).toHaveLength(2);
    expect(ran).toBe(1);
    expect(enqueued.tasks.map((task) => task.id)).toEqual(expect.arrayContaining(other.map((task) => task.id)));
    await worker.stop();
  });
});
