/**
 * What a worker tells the server about itself (host, declared queue rate, leaving on shutdown)
 * and its local rate limit (`--rate`), against the fake client and a fake clock.
 */
import { describe, expect, it } from "vitest";
import { LEAVE_TIMEOUT_MS } from "../../../lib/worker/index.ts";
import { setup } from "./worker-test-bundle.ts";

// One macrotask turn: lets every pending promise job run, to show that nothing further happens.
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("worker rate limit (--rate)", () => {
  it("never asks a poll for more tasks than it has tokens, and waits for a token before polling", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, ratePerSecond: 2 });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.request.max).toBe(2); // a burst of one second of the rate, below the free slots
    first.answer([b.aLeasedTask(), b.aLeasedTask()]);
    await b.client.completes.until(() => b.client.completes.calls.length === 2);
    await settle();
    expect(b.client.polls.calls).toHaveLength(1); // no token: no poll, though every slot is free
    await b.clock.advance(499);
    expect(b.client.polls.calls).toHaveLength(1);
    await b.clock.advance(1);
    const second = await b.client.polls.next();
    expect(second.request.max).toBe(1);
    second.answer([]);
    await b.worker.stop();
  });

  it("gives back the tokens of a poll that came back short", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, ratePerSecond: 3 });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.request.max).toBe(3);
    first.answer([b.aLeasedTask()]);
    const second = await b.client.polls.next();
    expect(second.request.max).toBe(2); // one token spent on the task that started
    second.answer([]);
    const third = await b.client.polls.next();
    expect(third.request.max).toBe(2);
    await b.worker.stop();
  });

  it("shares its tokens between the polls of all its queues", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, queues: ["a", "b"], ratePerSecond: 3 });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.request.max).toBe(3); // the first loop took every token
    await b.clock.untilSleeping(); // the other loop waits for one
    expect(b.client.openPolls).toHaveLength(1);
    await b.clock.advance(334); // one token at 3/s
    const second = await b.client.polls.next();
    expect(second.queue).not.toBe(first.queue);
    expect(second.request.max).toBe(1);
    await b.worker.stop();
  });

  it("leaves the count of each poll to the free slots when no rate is set", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 7 });
    await b.worker.start();
    expect((await b.client.polls.next()).request.max).toBe(7);
    await b.worker.stop();
  });
});

describe("worker presence", () => {
  it("sends its host and its declared queue rate with every poll", async () => {
    const b = setup({ t: async () => "done" }, { host: "web-1", queueRate: "10/s" });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.request).toMatchObject({ identity: "test-worker", host: "web-1", queueRate: "10/s" });
    first.answer([]);
    expect((await b.client.polls.next()).request).toMatchObject({ host: "web-1", queueRate: "10/s" });
    await b.worker.stop();
  });

  it("sends neither when they are not set", async () => {
    const b = setup({ t: async () => "done" });
    await b.worker.start();
    const request = (await b.client.polls.next()).request;
    expect("host" in request).toBe(false);
    expect("queueRate" in request).toBe(false);
    await b.worker.stop();
  });

  it("tells the server it left each queue once it has stopped polling", async () => {
    const b = setup({ t: async () => "done" }, { queues: ["a", "b"] });
    const openPollsAtLeave: number[] = [];
    b.client.leaveBehaviour = async (call) => (openPollsAtLeave.push(b.client.openPolls.length), { ...call, left: true });
    await b.worker.start();
    await b.client.polls.until(() => b.client.openPolls.length === 2);
    await b.worker.stop();
    expect(b.client.leaves.calls).toEqual([
      { queue: "a", identity: "test-worker" },
      { queue: "b", identity: "test-worker" },
    ]);
    expect(openPollsAtLeave).toEqual([0, 0]);
  });

  it("does not leave a worker that never started", async () => {
    const b = setup({ t: async () => "done" });
    await b.worker.stop();
    expect(b.client.leaves.calls).toEqual([]);
  });

  it("logs a refused leave at debug and stops anyway", async () => {
    const b = setup({ t: async () => "done" });
    b.client.leaveBehaviour = async () => {
      throw new Error("connection refused");
    };
    await b.worker.start();
    await b.client.polls.next();
    expect(await b.worker.stop()).toEqual({ abandoned: 0 });
    expect(b.logged("debug", "could not tell the server the worker left")).toHaveLength(1);
    expect(b.logs.filter((record) => record.level === "warn" || record.level === "error")).toEqual([]);
  });

  it(`waits at most ${LEAVE_TIMEOUT_MS} ms for a server that does not answer the leave`, async () => {
    const b = setup({ t: async () => "done" });
    b.client.leaveBehaviour = () => new Promise(() => {});
    await b.worker.start();
    await b.client.polls.next();
    let stopped = false;
    const stopping = b.worker.stop().then(() => (stopped = true));
    await b.clock.advance(LEAVE_TIMEOUT_MS - 1);
    expect(stopped).toBe(false);
    await b.clock.advance(1);
    await stopping;
    expect(b.logged("debug", "did not acknowledge the worker leaving")).toHaveLength(1);
  });
});
