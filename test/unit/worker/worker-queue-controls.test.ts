/**
 * What a worker tells the server about itself (host, declared queue rate, leaving on shutdown)
 * and its local rate limit (`--rate`), against the fake client and a fake clock.
 */
import { describe, expect, it } from "vitest";
import { LEAVE_TIMEOUT_MS, POLL_RETURN_MS } from "../../../lib/worker/index.ts";
import { setup } from "./worker-test-bundle.ts";

// One macrotask turn: lets every pending promise job run, to show that nothing further happens.
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("worker rate limit (--rate)", () => {
  // Every open poll, of the base queue and of the worker's own host and worker queues.
  const openPolls = (b: ReturnType<typeof setup>) => [...b.client.openPolls, ...b.client.openOwnPolls];
  const asked = (b: ReturnType<typeof setup>) => openPolls(b).reduce((sum, call) => sum + call.request.max!, 0);

  it("never asks its polls for more tasks than it has tokens, and waits for a token before polling", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, ratePerSecond: 2 });
    await b.worker.start();
    await b.clock.untilSleeping(); // a burst of 2 tokens for 3 loops: the third waits for one
    await b.client.allPolls.until(() => openPolls(b).length === 2);
    expect(asked(b)).toBe(2);
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.completes.next();
    await b.clock.untilSleeping(2); // the base queue waits for a token too, though every slot is free
    const sent = b.client.allPolls.calls.length;
    await b.clock.advance(499);
    expect(b.client.allPolls.calls).toHaveLength(sent);
    await b.clock.advance(1);
    await b.client.allPolls.until(() => b.client.allPolls.calls.length === sent + 1);
    expect(b.client.allPolls.calls.at(-1)!.request.max).toBe(1);
    await settle();
    expect(b.client.allPolls.calls).toHaveLength(sent + 1); // one token, one poll
    await b.worker.stop();
  });

  it("gives back the tokens of a poll that came back short", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, ratePerSecond: 3 });
    await b.worker.start();
    await b.client.allPolls.until(() => openPolls(b).length === 3); // 3 tokens, one per loop
    (await b.client.polls.next()).answer([]);
    const again = await b.client.polls.next(); // its token came back: no wait
    expect(again.request.max).toBe(1);
    expect(b.clock.pendingSleeps).toBe(0);
    await b.worker.stop();
  });

  it("shares its tokens between the polls of all its queues", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, queues: ["a", "b"], ratePerSecond: 3 });
    await b.worker.start();
    await b.clock.untilSleeping(3); // 6 loops, 3 tokens
    await b.client.allPolls.until(() => openPolls(b).length === 3);
    await settle();
    expect(openPolls(b)).toHaveLength(3);
    await b.clock.advance(334); // one token at 3/s
    await b.client.allPolls.until(() => openPolls(b).length === 4);
    expect(asked(b)).toBe(4);
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

  it("declares --queue-rate on base-queue polls only, and no rate when it is not set", async () => {
    const declared = setup({ t: async () => "done" }, { queueRate: "10/s" });
    await declared.worker.start();
    await declared.client.ownPolls.until(() => declared.client.openOwnPolls.length === 2);
    for (const call of declared.client.openOwnPolls) expect("queueRate" in call.request).toBe(false);
    await declared.worker.stop();
    const b = setup({ t: async () => "done" });
    await b.worker.start();
    expect("queueRate" in (await b.client.polls.next()).request).toBe(false);
    await b.worker.stop();
  });

  it("tells the server it left each queue at stop, and lets the polls the leave answered come back unaborted", async () => {
    const b = setup({ t: async () => "done" }, { queues: ["a", "b"] });
    await b.worker.start();
    await b.client.ownPolls.until(() => b.client.openPolls.length === 2 && b.client.openOwnPolls.length === 4);
    const polls = [...b.client.openPolls, ...b.client.openOwnPolls];
    await b.worker.stop();
    expect(b.client.leaves.calls).toEqual(
      ["a", "a@host:test-host", "a@worker:test-worker", "b", "b@host:test-host", "b@worker:test-worker"].map((queue) => ({ queue, identity: "test-worker" })),
    );
    for (const poll of polls) {
      expect(poll.settled).toBe(true);
      expect(poll.signal?.aborted).toBe(false);
    }
    expect(b.client.allPolls.calls).toHaveLength(6);
  });

  it("does not leave a worker that never started", async () => {
    const b = setup({ t: async () => "done" });
    await b.worker.stop();
    expect(b.client.leaves.calls).toEqual([]);
  });

  it(`logs a refused leave at debug, and aborts the polls still open ${POLL_RETURN_MS} ms into stop`, async () => {
    const b = setup({ t: async () => "done" });
    b.client.leaveBehaviour = async () => {
      throw new Error("connection refused");
    };
    await b.worker.start();
    const poll = await b.client.polls.next();
    let stopped = false;
    const stopping = b.worker.stop().then((report) => ((stopped = true), report));
    await b.clock.advance(POLL_RETURN_MS - 1);
    expect(stopped).toBe(false);
    expect(poll.signal?.aborted).toBe(false);
    await b.clock.advance(1);
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(poll.signal?.aborted).toBe(true);
    expect(b.logged("debug", "could not tell the server the worker left")).toHaveLength(3); // the queue, its host and worker queues
    expect(b.logged("info", "polls still open at stop")).toHaveLength(1);
    expect(b.logs.filter((record) => record.level === "warn" || record.level === "error")).toEqual([]);
  });

  it(`waits at most ${LEAVE_TIMEOUT_MS} ms for a server that does not answer the leave`, async () => {
    const b = setup({ t: async () => "done" });
    b.client.leaveBehaviour = () => new Promise(() => {});
    await b.worker.start();
    await b.client.polls.next();
    const stopping = b.worker.stop();
    await b.clock.advance(LEAVE_TIMEOUT_MS);
    expect(b.logged("debug", "did not acknowledge the worker leaving")).toHaveLength(1);
    await b.clock.advance(POLL_RETURN_MS - LEAVE_TIMEOUT_MS);
    expect(await stopping).toEqual({ abandoned: 0 });
  });
});
