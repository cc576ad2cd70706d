import { describe, expect, it } from "vitest";
import { TaskAbortedError, type TaskContext } from "../../../lib/worker/index.ts";
import { deferred, setup } from "./worker-test-bundle.ts";

// One macrotask turn: lets every pending promise job run, to show that nothing further happens.
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("worker polling", () => {
  it("asks only for as many tasks as there are free slots, naming its types", async () => {
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const b = setup({ resize: () => gates[started++]!.promise, crop: async () => {} }, { concurrency: 3 });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.queue).toBe("q");
    expect(first.request).toEqual({ identity: "test-worker", types: ["resize", "crop"], max: 3, waitMs: 30_000 });
    first.answer([b.aLeasedTask({ type: "resize" }), b.aLeasedTask({ type: "resize" })]);
    const second = await b.client.polls.next();
    expect(second.request.max).toBe(1);
    second.answer([b.aLeasedTask({ type: "resize" })]);
    await settle();
    expect(b.client.polls.calls).toHaveLength(2); // every slot is busy: no poll
    gates[0]!.resolve();
    const third = await b.client.polls.next();
    expect(third.request.max).toBe(1);
    expect(b.client.completes.calls).toHaveLength(1);
    gates.forEach((gate) => gate.resolve());
    expect(await b.worker.stop()).toEqual({ abandoned: 0 });
  });

  it("shares one slot pool between queues, each poll reserving at most its share", async () => {
    const gate = deferred();
    const b = setup({ t: () => gate.promise }, { concurrency: 4, queues: ["a", "b", "c"] });
    let running = 0;
    const reserved = () => b.client.openPolls.reduce((sum, call) => sum + call.request.max!, 0);
    await b.worker.start();
    await b.client.polls.until(() => b.client.openPolls.length === 3 || reserved() === 4);
    // ceil(4 / 3) = 2 per poll, and never more in total than the pool holds.
    expect(b.client.openPolls.every((call) => call.request.max! <= 2)).toBe(true);
    expect(reserved()).toBe(4);
    // Queue "a" gets work; the idle long polls of b and c still leave it its share.
    const pollA = b.client.openPolls.find((call) => call.queue === "a")!;
    const tasks = Array.from({ length: pollA.request.max! }, () => b.aLeasedTask({ queue: "a" }));
    running += tasks.length;
    pollA.answer(tasks);
    await settle();
    expect(running + reserved()).toBeLessThanOrEqual(4);
    // An idle poll ending empty returns its slots; the next polls never exceed what is free.
    for (const call of b.client.openPolls) call.answer([]);
    await settle();
    expect(running + reserved()).toBeLessThanOrEqual(4);
    expect(b.client.openPolls.length).toBeGreaterThan(0);
    gate.resolve();
    await b.worker.stop();
  });

  it("completes the task with the handler's return value, and without a result for undefined", async () => {
    const b = setup({ add: async (input: { a: number; b: number }) => ({ sum: input.a + input.b }), noop: async () => undefined });
    await b.worker.start();
    const sum = b.aLeasedTask({ type: "add", input: { a: 2, b: 3 } });
    const noop = b.aLeasedTask({ type: "noop" });
    (await b.client.polls.next()).answer([sum, noop]);
    await b.client.completes.until(() => b.client.completes.calls.length === 2);
    expect(b.client.completes.calls).toContainEqual({ id: sum.id, leaseToken: sum.leaseToken, result: { sum: 5 } });
    expect(b.client.completes.calls).toContainEqual({ id: noop.id, leaseToken: noop.leaseToken, result: undefined });
    expect(b.logged("info", "task")).toEqual([]); // successes are not logged at info
    await b.worker.stop();
  });

  it("fails the attempt with the thrown error's name and message", async () => {
    class QuotaExceeded extends Error {
      override name = "QuotaExceeded";
    }
    const b = setup({
      send: async () => {
        throw new QuotaExceeded("daily quota of 100 mails used up");
      },
      odd: async () => {
        throw "a bare string";
      },
    });
    await b.worker.start();
    const send = b.aLeasedTask({ type: "send" });
    const odd = b.aLeasedTask({ type: "odd" });
    (await b.client.polls.next()).answer([send, odd]);
    await b.client.fails.until(() => b.client.fails.calls.length === 2);
    expect(b.client.fails.calls).toContainEqual({
      id: send.id,
      leaseToken: send.leaseToken,
      error: { type: "QuotaExceeded", message: "daily quota of 100 mails used up" },
    });
    expect(b.client.fails.calls).toContainEqual({ id: odd.id, leaseToken: odd.leaseToken, error: { type: "Error", message: "a bare string" } });
    expect(b.logged("warn", "task failed")).toHaveLength(2);
    await b.worker.stop();
  });

  it("fails a result that is not JSON instead of crashing", async () => {
    const b = setup({ big: async () => ({ n: 10n }) });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const fail = await b.client.fails.next();
    expect(fail.error.type).toBe("ResultNotSerializable");
    await b.worker.stop();
  });
});

describe("worker shutdown", () => {
  it("stops polling at once, then waits for running handlers within the grace period", async () => {
    const gate = deferred<string>();
    const b = setup({ t: () => gate.promise }, { graceMs: 30_000 });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const idlePoll = await b.client.polls.next();
    let stopped = false;
    const stopping = b.worker.stop().then((report) => ((stopped = true), report));
    await b.clock.advance(29_000);
    expect(idlePoll.settled).toBe(true); // the in-flight long poll was aborted
    expect(stopped).toBe(false);
    gate.resolve("finished late");
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(b.client.completes.calls[0]?.result).toBe("finished late");
    expect(b.client.polls.calls).toHaveLength(2);
    expect(b.logged("info", "worker stopped")).toHaveLength(1);
  });

  it("aborts handlers still running when the grace period ends and leaves them to lease expiry", async () => {
    let seen: TaskContext | undefined;
    const b = setup({ t: (_input, ctx) => ((seen = ctx), new Promise(() => {})) }, { graceMs: 30_000 });
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    await b.client.polls.next();
    const stopping = b.worker.stop();
    await b.clock.advance(30_000);
    expect(await stopping).toEqual({ abandoned: 1 });
    expect(seen?.signal.aborted).toBe(true);
    expect(seen?.signal.reason).toBeInstanceOf(TaskAbortedError);
    expect((seen?.signal.reason as TaskAbortedError).kind).toBe("worker-stopped");
    expect(b.client.fails.calls).toEqual([]);
    expect(b.client.completes.calls).toEqual([]);
    expect(b.logged("warn", "task abandoned at shutdown; the server redelivers it when its lease expires")).toHaveLength(1);
  });

  it("cuts the grace period short when stopped again with graceMs 0", async () => {
    const b = setup({ t: () => new Promise(() => {}) });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.polls.next();
    const stopping = b.worker.stop();
    await settle();
    void b.worker.stop({ graceMs: 0 });
    expect(await stopping).toEqual({ abandoned: 1 });
    expect(b.client.fails.calls).toEqual([]);
  });
});
