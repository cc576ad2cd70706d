/**
 * A worker's graceful stop strands nothing: the server answers a leaving worker's parked polls
 * at once (and does not park its poll still on the way), takes back leased tasks the worker
 * will not run (`POST /v1/tasks/release`), and the worker runtime, stopped under a backlog with
 * polls in flight, leaves every task completed or pending, none running.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../lib/clock/clock.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { createWorker } from "../../lib/worker/index.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { tempDir } from "../support/temp-dir.ts";

async function leased(server: TestServer, n: number, identity = "w1") {
  await server.client.enqueueBatch("q", Array.from({ length: n }, () => ({ type: "t" })));
  return server.client.poll("q", { identity, types: ["t"], max: n, waitMs: 0 });
}

async function counts(server: TestServer, queue = "q") {
  const listed = (await server.client.listQueues(queue)).queues.find((entry) => entry.name === queue);
  if (!listed) throw new Error(`queue ${queue} is not listed`);
  return listed;
}

describe("leaving a queue", () => {
  it("answers the leaving worker's parked polls at once, empty, and no one else's", async () => {
    await using server = await startTestServer();
    const parked = (identity: string) => server.daemon.events.next("poll.parked", (event) => event.identity === identity);
    const w1Parked = parked("w1");
    const w1Poll = server.client.poll("q", { identity: "w1", types: ["t"], waitMs: 60_000 });
    await w1Parked;
    const w2Parked = parked("w2");
    const w2Poll = server.client.poll("q", { identity: "w2", types: ["t"], waitMs: 60_000 });
    await w2Parked;
    expect(await server.client.leave("q", "w1")).toEqual({ queue: "q", identity: "w1", left: true });
    expect(await w1Poll).toEqual([]);
    expect(server.daemon.pollersWaiting()).toBe(1);
    const { id } = await server.client.enqueue("q", { type: "t" });
    expect((await w2Poll).map((task) => task.id)).toEqual([id]);
  });

  it("does not park a poll that arrives just after its worker left, and keeps that worker out of describe", async () => {
    await using server = await startTestServer();
    await server.client.leave("q", "w1");
    let parkedEvents = 0;
    server.daemon.events.on("poll.parked", () => parkedEvents++);
    expect(await server.client.poll("q", { identity: "w1", types: ["t"], waitMs: 60_000 })).toEqual([]);
    expect(parkedEvents).toBe(0);
    expect((await server.client.describe("q")).pollers).toEqual([]);
    // The memory is used up: the worker's next poll (a new worker with the same name) parks.
    const parked = server.daemon.events.next("poll.parked");
    const next = server.client.poll("q", { identity: "w1", types: ["t"], waitMs: 60_000 });
    await parked;
    await server.client.leave("q", "w1");
    expect(await next).toEqual([]);
  });
});

describe("POST /v1/tasks/release", () => {
  it("puts a task leased under that token back to pending, attempt uncounted, and is safe to repeat", async () => {
    await using dir = await tempDir();
    let releasedId: string;
    {
      await using server = await startTestServer({ dataDir: dir.path });
      const [a, b] = await leased(server, 2);
      const released = server.daemon.events.next("task.released");
      expect(await server.client.release([{ id: a!.id, leaseToken: a!.leaseToken }, { id: b!.id, leaseToken: "stale" }, { id: "no-such-task", leaseToken: "x" }])).toEqual([
        { id: a!.id, released: true },
        { id: b!.id, released: false },
        { id: "no-such-task", error: { code: "not_found", message: "task no-such-task not found" } },
      ]);
      expect(await released).toEqual({ id: a!.id, queue: "q" });
      expect(await server.client.getTask(a!.id)).toMatchObject({ state: "pending", attempt: 0 });
      expect(await server.client.getTask(b!.id)).toMatchObject({ state: "running", attempt: 1 });
      expect(await server.client.release([{ id: a!.id, leaseToken: a!.leaseToken }])).toEqual([{ id: a!.id, released: false }]);
      releasedId = a!.id;
    }
    // Persisted: after a restart the task is pending, not running until its old lease expires.
    await using server = await startTestServer({ dataDir: dir.path });
    expect(await server.client.getTask(releasedId)).toMatchObject({ state: "pending", attempt: 0 });
    const [again] = await server.client.poll("q", { identity: "w2", types: ["t"], max: 1, waitMs: 0 });
    expect(again).toMatchObject({ id: releasedId, attempt: 1 });
  });

  it("goes to a poll parked on the queue at once", async () => {
    await using server = await startTestServer();
    const [task] = await leased(server, 1);
    const parked = server.daemon.events.next("poll.parked", (event) => event.identity === "w2");
    const waiting = server.client.poll("q", { identity: "w2", types: ["t"], waitMs: 60_000 });
    await parked;
    await server.client.release([{ id: task!.id, leaseToken: task!.leaseToken }]);
    expect(await waiting).toEqual([expect.objectContaining({ id: task!.id, attempt: 1 })]);
  });

  it("refuses a task whose cancellation was requested: its worker reports the attempt instead", async () => {
    await using server = await startTestServer();
    const [task] = await leased(server, 1);
    await server.client.cancel(task!.id);
    expect(await server.client.release([{ id: task!.id, leaseToken: task!.leaseToken }])).toEqual([
      { id: task!.id, error: { code: "conflict", message: expect.stringContaining("cancellation") } },
    ]);
    expect((await server.client.getTask(task!.id)).state).toBe("running");
  });
});

describe("stopping workers under a backlog", () => {
  it("leaves every task completed or pending, none running, as soon as stop resolves", async () => {
    await using server = await startTestServer();
    const total = 3_000;
    for (let sent = 0; sent < total; sent += 1_000) {
      await server.client.enqueueBatch("q", Array.from({ length: 1_000 }, () => ({ type: "t" })));
    }
    let finished = 0;
    server.daemon.events.on("task.finished", () => finished++);
    // Eight rounds: four workers of 32 slots each drain part of the backlog, then all stop at
    // once, each with its polls in flight (with a backlog, a poll is answered at once, so one is
    // nearly always on its way).
    for (let round = 1; round <= 8; round++) {
      const workers = Array.from({ length: 4 }, (_, index) =>
        createWorker({
          client: new TqdClient({ baseUrl: server.url, transportRetries: 0 }),
          clock: systemClock,
          log: silentLogger,
          handlers: { t: async () => "done" },
          queues: ["q"],
          concurrency: 32,
          identity: `w${round}-${index}`,
          host: "test-host",
          graceMs: 5_000,
          pollWaitMs: 1_000,
        }),
      );
      for (const worker of workers) await worker.start();
      const target = finished + 200;
      await new Promise<void>((resolve) => {
        const off = server.daemon.events.on("task.finished", () => {
          if (finished < target) return;
          off();
          resolve();
        });
      });
      const reports = await Promise.all(workers.map((worker) => worker.stop()));
      expect(reports).toEqual(workers.map(() => ({ abandoned: 0 })));
      const after = await counts(server);
      expect(after.running).toBe(0);
      expect(after.completed + after.pending).toBe(total);
    }
  });
});
