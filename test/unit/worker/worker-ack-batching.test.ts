import { describe, expect, it } from "vitest";
import { TqdApiError, TqdUnreachableError } from "../../../lib/client/index.ts";
import type { SettleItemResult } from "../../../lib/protocol/index.ts";
import { ACK_REQUESTS_IN_FLIGHT, ORDERED_ACKS_IN_FLIGHT } from "../../../lib/worker/ack-batcher.ts";
import { deferred, setup } from "./worker-test-bundle.ts";

describe("batched acknowledgements", () => {
  it("reports outcomes that end in the same tick in one request", async () => {
    const b = setup({ t: async (input) => ({ echo: input }) });
    b.client.acceptBatches();
    await b.worker.start();
    const tasks = [b.aLeasedTask({ input: 1 }), b.aLeasedTask({ input: 2 }), b.aLeasedTask({ input: 3 })];
    (await b.client.polls.next()).answer(tasks);
    const batch = await b.client.batches.next();
    expect(batch.items).toEqual(tasks.map((task) => ({ id: task.id, leaseToken: task.leaseToken, result: { echo: task.input } })));
    await b.worker.stop();
    expect(b.client.batches.calls).toHaveLength(1);
    expect(b.client.completes.calls).toHaveLength(0);
  });

  it.each([
    { channel: "HTTP", ordered: false, bound: ACK_REQUESTS_IN_FLIGHT },
    // Batches on the stream free their slots when sent: more of them may wait for answers.
    { channel: "the stream (ordered)", ordered: true, bound: ORDERED_ACKS_IN_FLIGHT },
  ])("over $channel, sends up to $bound batches before answers come; outcomes ending after that wait and go out together", async ({ ordered, bound }) => {
    expect(ORDERED_ACKS_IN_FLIGHT).toBeGreaterThan(ACK_REQUESTS_IN_FLIGHT);
    const n = bound + 2;
    const unanswered = Array.from({ length: bound }, () => deferred<SettleItemResult[]>());
    const handlers = Array.from({ length: n }, () => deferred());
    let started = 0;
    const b = setup({ t: async () => handlers[started++]!.promise }, { concurrency: n });
    let calls = 0;
    b.client.acceptBatches(async (call) => (calls < bound ? unanswered[calls++]!.promise : call.items.map((item) => ({ id: item.id, state: "completed" }))), { ordered });
    await b.worker.start();
    const tasks = Array.from({ length: n }, () => b.aLeasedTask());
    (await b.client.polls.next()).answer(tasks);
    // Each of the first ones ends in a turn of its own: a request each, none answered.
    for (let i = 0; i < bound; i++) {
      handlers[i]!.resolve();
      expect((await b.client.batches.next()).items.map((item) => item.id)).toEqual([tasks[i]!.id]);
    }
    handlers[n - 2]!.resolve();
    handlers[n - 1]!.resolve();
    // Both end while every request allowed in flight is unanswered: no further request yet.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(b.client.batches.calls).toHaveLength(bound);
    unanswered[0]!.resolve([{ id: tasks[0]!.id, state: "completed" }]);
    expect((await b.client.batches.next()).items.map((item) => item.id)).toEqual([tasks[n - 2]!.id, tasks[n - 1]!.id]);
    for (let i = 1; i < bound; i++) unanswered[i]!.resolve([{ id: tasks[i]!.id, state: "completed" }]);
    await b.worker.stop();
    expect(b.client.completes.calls).toHaveLength(0);
  });

  it("reports outcomes still queued behind an unanswered batch before stop resolves", async () => {
    const first = deferred<SettleItemResult[]>();
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const b = setup({ t: async () => gates[started++]!.promise });
    let calls = 0;
    b.client.acceptBatches(async (call) => (calls++ === 0 ? first.promise : call.items.map((item) => ({ id: item.id, state: "completed" }))));
    await b.worker.start();
    const tasks = [b.aLeasedTask(), b.aLeasedTask(), b.aLeasedTask()];
    (await b.client.polls.next()).answer(tasks);
    gates[0]!.resolve();
    await b.client.batches.next();
    let stopped = false;
    const stopping = b.worker.stop().then((report) => ((stopped = true), report));
    gates[1]!.resolve();
    gates[2]!.resolve();
    await b.clock.advance(1_000);
    expect(stopped).toBe(false); // two outcomes wait behind the first, unanswered batch
    first.resolve([{ id: tasks[0]!.id, state: "completed" }]);
    expect((await b.client.batches.next()).items.map((item) => item.id)).toEqual([tasks[1]!.id, tasks[2]!.id]);
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(b.client.completes.calls).toHaveLength(0);
  });

  it("drops an item whose lease is stale without failing the others or retrying it alone", async () => {
    const b = setup({ t: async () => "ok" });
    b.client.acceptBatches(async (call) =>
      call.items.map((item, index): SettleItemResult => (index === 0 ? { id: item.id, error: { code: "conflict", message: "lease token is stale" } } : { id: item.id, state: "completed" })),
    );
    await b.worker.start();
    const tasks = [b.aLeasedTask(), b.aLeasedTask()];
    (await b.client.polls.next()).answer(tasks);
    await b.client.batches.next();
    await b.worker.stop();
    expect(b.logged("warn", "lease lost")).toEqual([expect.objectContaining({ taskId: tasks[0]!.id, error: "lease token is stale" })]);
    expect(b.client.completes.calls).toHaveLength(0);
  });

  it("reports each outcome alone when a batch request fails, or an item gets no definite answer", async () => {
    const b = setup({ t: async () => "ok" });
    b.client.acceptBatches(async (call) => {
      if (call.items.length > 1) throw new TqdUnreachableError("http://tqd.test", new Error("connection reset"));
      return [{ id: call.items[0]!.id, error: { code: "unavailable", message: "the store could not commit" } }];
    });
    await b.worker.start();
    const tasks = [b.aLeasedTask(), b.aLeasedTask()];
    (await b.client.polls.next()).answer(tasks);
    await b.client.completes.until(() => b.client.completes.calls.length === 2);
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.completes.until(() => b.client.completes.calls.length === 3);
    await b.worker.stop();
    expect(b.client.completes.calls.map((call) => call.id).slice(0, 2).sort()).toEqual(tasks.map((task) => task.id).sort());
  });

  it("holds a slot until its batch is answered when the channel does not keep order (HTTP)", async () => {
    const answer = deferred<SettleItemResult[]>();
    const b = setup({ t: async () => "ok" }, { concurrency: 3 });
    b.client.acceptBatches(async () => answer.promise);
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    await b.client.batches.next();
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(b.client.polls.calls).toHaveLength(1); // the one slot of the base queue is still held
    answer.resolve([{ id: task.id, state: "completed" }]);
    expect((await b.client.polls.next()).request.max).toBe(1);
    await b.worker.stop();
  });

  it("frees a slot once its batch is on an ordered channel (the worker stream), before the answer", async () => {
    const answer = deferred<SettleItemResult[]>();
    const b = setup({ t: async () => "ok" }, { concurrency: 3 });
    let calls = 0;
    b.client.acceptBatches(async (call) => (calls++ === 0 ? answer.promise : call.items.map((item) => ({ id: item.id, state: "completed" }))), { ordered: true });
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    await b.client.batches.next();
    const next = await b.client.polls.next();
    expect(next.request.max).toBe(1);
    // The batch is still unanswered: the next task runs, and its outcome waits for its own batch.
    const second = b.aLeasedTask();
    next.answer([second]);
    const secondBatch = await b.client.batches.next();
    expect(secondBatch.items.map((item) => item.id)).toEqual([second.id]);
    answer.resolve([{ id: task.id, state: "completed" }]);
    await b.worker.stop();
    expect(b.client.completes.calls).toHaveLength(0);
  });

  it("stops batching against a server without the batch route", async () => {
    const b = setup({ t: async () => "ok" });
    b.client.acceptBatches(async () => {
      throw new TqdApiError(405, "method_not_allowed", "POST is not allowed on /v1/tasks/complete");
    });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.completes.next();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.completes.next();
    await b.worker.stop();
    expect(b.client.batches.calls).toHaveLength(1);
  });
});
