import { describe, expect, it } from "vitest";
import { TqdApiError } from "../../../lib/client/index.ts";
import { TaskAbortedError, type TaskContext } from "../../../lib/worker/index.ts";
import { deferred, setup } from "./worker-test-bundle.ts";

function abortKind(ctx: TaskContext | undefined): string | undefined {
  const reason: unknown = ctx?.signal.reason;
  return reason instanceof TaskAbortedError ? reason.kind : undefined;
}

describe("worker leases", () => {
  it("aborts ctx.signal when a heartbeat finds the lease lost (409), and reports nothing", async () => {
    let seen: TaskContext | undefined;
    const b = setup(
      {
        t: async (_input, ctx) => {
          seen = ctx;
          await ctx.heartbeat({ progress: 0.5 });
          return "too late";
        },
      },
      { concurrency: 1 },
    );
    b.client.heartbeatBehaviour = async () => {
      throw new TqdApiError(409, "conflict", "the lease token is stale");
    };
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    await b.client.allPolls.until(() => b.client.allPolls.calls.length === 2); // concurrency 1: the slot came back, so the task is done
    expect(b.client.heartbeats.calls).toEqual([{ id: task.id, leaseToken: task.leaseToken, details: { progress: 0.5 } }]);
    expect(abortKind(seen)).toBe("lease-lost");
    expect(b.client.completes.calls).toEqual([]);
    expect(b.client.fails.calls).toEqual([]);
    expect(b.logged("warn", "lease lost")).toHaveLength(1);
    await b.worker.stop();
  });

  it("extends the lease on heartbeat, and aborts ctx.signal once the deadline passes unextended", async () => {
    let seen: TaskContext | undefined;
    const gate = deferred();
    const b = setup({ t: (_input, ctx) => ((seen = ctx), gate.promise) });
    b.client.heartbeatBehaviour = async () => ({ leaseDeadline: new Date(b.clock.now() + 60_000).toISOString(), cancelRequested: false });
    await b.worker.start();
    const leasedAtMs = b.clock.now();
    (await b.client.polls.next()).answer([b.aLeasedTask()]); // lease until +60 s
    await b.client.polls.next();
    await b.clock.advance(50_000);
    await seen!.heartbeat(); // lease until +110 s
    expect(seen!.leaseDeadline.getTime()).toBe(leasedAtMs + 110_000);
    await b.clock.advance(20_000);
    expect(seen!.signal.aborted).toBe(false);
    await b.clock.advance(40_000);
    expect(abortKind(seen)).toBe("lease-expired");
    gate.resolve();
    await b.worker.stop();
  });

  it("aborts ctx.signal when the heartbeat answer asks for cancellation", async () => {
    let seen: TaskContext | undefined;
    const b = setup({ t: async (_input, ctx) => ((seen = ctx), await ctx.heartbeat(), ctx.signal.throwIfAborted()) });
    b.client.heartbeatBehaviour = async () => ({ leaseDeadline: new Date(b.clock.now() + 60_000).toISOString(), cancelRequested: true });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const fail = await b.client.fails.next();
    expect(abortKind(seen)).toBe("cancel-requested");
    expect(fail.error.type).toBe("TaskAbortedError");
    await b.worker.stop();
  });

  it("logs a lease lost on complete (409) and keeps polling", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 1 });
    b.client.completeBehaviour = async () => {
      throw new TqdApiError(409, "conflict", "lease expired");
    };
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.allPolls.until(() => b.client.allPolls.calls.length === 2); // concurrency 1: the slot came back
    expect(b.client.completes.calls).toHaveLength(1);
    expect(b.logged("warn", "lease lost")).toHaveLength(1);
    expect(b.logged("error", "")).toEqual([]);
    await b.worker.stop();
  });

  it("fails the attempt when the server refuses the result (e.g. too large)", async () => {
    const b = setup({ t: async () => "x".repeat(100) });
    b.client.completeBehaviour = async () => {
      throw new TqdApiError(413, "payload_too_large", "the request body exceeds 1048576 bytes");
    };
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const fail = await b.client.fails.next();
    expect(fail.error).toEqual({ type: "ResultRejected", message: "the server refused the result: the request body exceeds 1048576 bytes" });
    await b.worker.stop();
  });
});
