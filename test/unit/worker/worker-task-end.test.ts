import { describe, expect, it } from "vitest";
import { decodeCompletionToken } from "../../../lib/protocol/index.ts";
import { NonRetryableError, type TaskContext } from "../../../lib/worker/index.ts";
import { deferred, setup } from "./worker-test-bundle.ts";

/** The error the worker reports when the handler throws `thrown`. */
async function reportedError(thrown: unknown) {
  const b = setup({
    t: async () => {
      throw thrown;
    },
  });
  await b.worker.start();
  (await b.client.polls.next()).answer([b.aLeasedTask()]);
  const fail = await b.client.fails.next();
  await b.worker.stop();
  return fail.error;
}

class InvalidAddress extends NonRetryableError {}

describe("non-retryable failures", () => {
  it("sends nonRetryable for a NonRetryableError, named by its type option or subclass", async () => {
    expect(await reportedError(new NonRetryableError("no such user"))).toEqual({
      type: "NonRetryableError",
      message: "no such user",
      nonRetryable: true,
    });
    expect(await reportedError(new NonRetryableError("no such user", { type: "UserNotFound" }))).toEqual({
      type: "UserNotFound",
      message: "no such user",
      nonRetryable: true,
    });
    expect(await reportedError(new InvalidAddress("no @"))).toEqual({ type: "InvalidAddress", message: "no @", nonRetryable: true });
  });

  it("sends nonRetryable for any thrown value whose nonRetryable property is true, own or inherited", async () => {
    const own = Object.assign(new TypeError("bad shape"), { nonRetryable: true });
    class Final extends Error {
      override name = "Final";
      get nonRetryable() {
        return true;
      }
    }
    expect(await reportedError(own)).toEqual({ type: "TypeError", message: "bad shape", nonRetryable: true });
    expect(await reportedError(new Final("done for"))).toEqual({ type: "Final", message: "done for", nonRetryable: true });
    expect(await reportedError({ nonRetryable: true })).toMatchObject({ type: "Error", nonRetryable: true });
  });

  it("leaves the flag out for other errors", async () => {
    expect(await reportedError(new RangeError("try again"))).toEqual({ type: "RangeError", message: "try again" });
    expect(await reportedError(Object.assign(new Error("no"), { nonRetryable: "yes" }))).toEqual({ type: "Error", message: "no" });
  });
});

describe("the handler's ctx", () => {
  it("carries the task's fields, a frozen copy of its headers, and methods that work destructured", async () => {
    let seen: Record<string, unknown> | undefined;
    const b = setup(
      {
        t: async (_input, ctx) => {
          const { taskId, queue, type, attempt, headers, hostQueue, workerQueue, lastHeartbeat, heartbeat, completeLater, leaseDeadline } = ctx;
          await heartbeat({ step: 1 });
          seen = { taskId, queue, type, attempt, headers, hostQueue, workerQueue, lastHeartbeat, leaseDeadline, token: completeLater(), again: ctx.completeLater(), sameHeaders: ctx.headers === headers };
          return "ignored";
        },
      },
      { concurrency: 1 },
    );
    await b.worker.start();
    const headerSource = { tenant: "acme" };
    const task = b.aLeasedTask({ attempt: 2, headers: headerSource, lastHeartbeat: { step: 0 }, leaseToken: "L7x9Qk2" });
    (await b.client.polls.next()).answer([task]);
    await b.client.heartbeats.next();
    await b.client.allPolls.until(() => b.client.allPolls.calls.length === 2);
    expect(seen).toMatchObject({ taskId: task.id, queue: task.queue, type: task.type, attempt: 2, headers: { tenant: "acme" }, lastHeartbeat: { step: 0 }, sameHeaders: true });
    expect(seen!.hostQueue).toMatch(/@host:/);
    expect(seen!.workerQueue).toMatch(/@worker:/);
    expect(seen!.leaseDeadline).toEqual(new Date(task.leaseDeadline));
    expect(seen!.token).toBe(seen!.again);
    expect(Object.isFrozen(seen!.headers)).toBe(true);
    expect(seen!.headers).not.toBe(headerSource);
    await b.worker.stop();
  });
});

describe("ctx.completeLater()", () => {
  it("returns a completion token, and once the handler returns reports nothing, frees the slot and stops the lease", async () => {
    let seen: TaskContext | undefined;
    const tokens: string[] = [];
    const b = setup(
      {
        t: async (_input, ctx) => {
          seen = ctx;
          tokens.push(ctx.completeLater(), ctx.completeLater());
          return "ignored";
        },
      },
      { concurrency: 1 },
    );
    await b.worker.start();
    const task = b.aLeasedTask({ leaseToken: "L7x9Qk2" }); // server tokens are alphanumeric
    (await b.client.polls.next()).answer([task]);
    await b.client.allPolls.until(() => b.client.allPolls.calls.length === 2); // concurrency 1: the slot came back
    expect(tokens[0]).toBe(tokens[1]);
    expect(decodeCompletionToken(tokens[0]!)).toEqual({ taskId: task.id, leaseToken: task.leaseToken });
    await b.clock.advance(120_000); // past the lease deadline: no local abort, the lease is not ours to watch
    expect(seen!.signal.aborted).toBe(false);
    await seen!.heartbeat({ late: true });
    expect(b.client.completes.calls).toEqual([]);
    expect(b.client.fails.calls).toEqual([]);
    expect(b.client.heartbeats.calls).toEqual([]);
    expect(b.worker.runningTasks).toBe(0);
    await b.worker.stop();
  });

  it("fails the attempt as usual when the handler throws after calling it", async () => {
    const b = setup({
      t: async (_input, ctx) => {
        ctx.completeLater();
        throw new Error("could not hand off");
      },
    });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    expect((await b.client.fails.next()).error).toEqual({ type: "Error", message: "could not hand off" });
    await b.worker.stop();
  });

  it("sends heartbeat details still held by the throttle before handing off", async () => {
    const handedOff = deferred();
    const b = setup({
      t: async (_input, ctx) => {
        await ctx.heartbeat({ step: 1 });
        await ctx.heartbeat({ step: 2 });
        ctx.completeLater();
        handedOff.resolve();
      },
    });
    b.client.heartbeatBehaviour = async () => ({ leaseDeadline: new Date(b.clock.now() + 60_000).toISOString(), cancelRequested: false });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await handedOff.promise;
    await b.client.heartbeats.until(() => b.client.heartbeats.calls.length === 2);
    expect(b.client.heartbeats.calls.map((call) => call.details)).toEqual([{ step: 1 }, { step: 2 }]);
    expect(b.client.completes.calls).toEqual([]);
    await b.worker.stop();
  });
});
