import { describe, expect, it } from "vitest";
import { TaskAbortedError, type TaskContext } from "../../../lib/worker/index.ts";
import { deferred, setup, type WorkerTestBundle } from "./worker-test-bundle.ts";

/** Answers heartbeats like a server would for a task with `heartbeatTimeoutMs` (or none). */
function answerHeartbeats(b: WorkerTestBundle, options: { extendMs?: number; cancelRequested?: () => boolean } = {}): void {
  const initialDeadlineMs = b.clock.now() + 60_000;
  b.client.heartbeatBehaviour = async () => ({
    leaseDeadline: new Date(options.extendMs === undefined ? initialDeadlineMs : b.clock.now() + options.extendMs).toISOString(),
    cancelRequested: options.cancelRequested?.() ?? false,
  });
}

function detailsSent(b: WorkerTestBundle): unknown[] {
  return b.client.heartbeats.calls.map((call) => call.details);
}

describe("worker heartbeats", () => {
  it("sends a burst of heartbeats as one send now and one trailing send with the last details after 0.8 x the timeout", async () => {
    const gate = deferred();
    const burstDone = deferred();
    let seen: TaskContext | undefined;
    const b = setup({
      t: async (_input, ctx) => {
        seen = ctx;
        for (let n = 0; n < 10; n++) await ctx.heartbeat({ n });
        burstDone.resolve();
        await gate.promise;
        return "done";
      },
    });
    answerHeartbeats(b, { extendMs: 10_000 });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask({ heartbeatTimeoutMs: 10_000, leaseDeadline: new Date(b.clock.now() + 10_000).toISOString() })]);
    await burstDone.promise; // the nine throttled calls resolved without time passing
    expect(detailsSent(b)).toEqual([{ n: 0 }]);
    await b.clock.advance(7_999);
    expect(detailsSent(b)).toEqual([{ n: 0 }]);
    await b.clock.advance(1);
    expect(detailsSent(b)).toEqual([{ n: 0 }, { n: 9 }]);
    expect(seen!.leaseDeadline.getTime()).toBe(b.clock.now() + 10_000); // extended by the trailing send
    await b.clock.advance(9_000); // nothing pending: no more sends; past the first send's deadline
    expect(detailsSent(b)).toEqual([{ n: 0 }, { n: 9 }]);
    expect(seen!.signal.aborted).toBe(false);
    gate.resolve();
    expect((await b.client.completes.next()).result).toBe("done");
    await b.worker.stop();
  });

  it("throttles to one send a second without a heartbeat timeout, keeping details when a call has none", async () => {
    const gate = deferred();
    const b = setup({
      t: async (_input, ctx) => {
        await ctx.heartbeat({ step: 1 });
        await ctx.heartbeat({ step: 2 });
        await ctx.heartbeat();
        await gate.promise;
      },
    });
    answerHeartbeats(b);
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.heartbeats.next();
    await b.clock.advance(999);
    expect(detailsSent(b)).toEqual([{ step: 1 }]);
    await b.clock.advance(1);
    expect(detailsSent(b)).toEqual([{ step: 1 }, { step: 2 }]);
    gate.resolve();
    await b.client.completes.next();
    await b.worker.stop();
  });

  it("sends details the throttle still holds before reporting the outcome", async () => {
    const b = setup({
      t: async (_input, ctx) => {
        await ctx.heartbeat({ step: 1 });
        await ctx.heartbeat({ step: 2 });
        throw new Error("step 3 broke");
      },
    });
    const order: string[] = [];
    answerHeartbeats(b);
    const answer = b.client.heartbeatBehaviour;
    b.client.heartbeatBehaviour = async (call) => (order.push(`heartbeat ${JSON.stringify(call.details)}`), answer(call));
    b.client.failBehaviour = async (call) => (order.push("fail"), { id: call.id, state: "scheduled" });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.fails.next();
    expect(order).toEqual(['heartbeat {"step":1}', 'heartbeat {"step":2}', "fail"]);
    await b.worker.stop();
  });

  it("passes the last heartbeat details of an earlier attempt as ctx.lastHeartbeat", async () => {
    const b = setup({ t: async (_input, ctx) => ({ resumeFrom: ctx.lastHeartbeat ?? null }) });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask({ attempt: 2, lastHeartbeat: { step: 3 } }), b.aLeasedTask()]);
    const results = [(await b.client.completes.next()).result, (await b.client.completes.next()).result];
    expect(results).toEqual(expect.arrayContaining([{ resumeFrom: { step: 3 } }, { resumeFrom: null }]));
    await b.worker.stop();
  });
});

describe("worker cancellation", () => {
  it("aborts ctx.signal on cancelRequested and still reports what the handler returns", async () => {
    let seen: TaskContext | undefined;
    const b = setup({
      t: async (_input, ctx) => {
        seen = ctx;
        await ctx.heartbeat({ step: 1 });
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        return "cleaned up";
      },
    });
    answerHeartbeats(b, { cancelRequested: () => true });
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    const complete = await b.client.completes.next();
    expect(complete).toEqual({ id: task.id, leaseToken: task.leaseToken, result: "cleaned up" });
    const reason: unknown = seen?.signal.reason;
    expect(reason instanceof TaskAbortedError && reason.kind).toBe("cancel-requested");
    expect(b.logged("info", "cancellation requested")).toHaveLength(1);
    await b.worker.stop();
  });

  it("learns of a cancellation from a trailing heartbeat", async () => {
    let cancel = false;
    const b = setup({
      t: async (_input, ctx) => {
        await ctx.heartbeat({ step: 1 });
        await ctx.heartbeat({ step: 2 }); // throttled: sent when the window closes
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        throw ctx.signal.reason;
      },
    });
    answerHeartbeats(b, { cancelRequested: () => cancel });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.heartbeats.next();
    cancel = true;
    await b.clock.advance(1_000);
    const fail = await b.client.fails.next();
    expect(fail.error).toMatchObject({ type: "TaskAbortedError" });
    expect(detailsSent(b)).toEqual([{ step: 1 }, { step: 2 }]);
    await b.worker.stop();
  });
});
