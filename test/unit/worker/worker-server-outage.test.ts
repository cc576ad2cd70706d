import { describe, expect, it } from "vitest";
import { TqdApiError, TqdUnreachableError } from "../../../lib/client/index.ts";
import { backoffDelayMs, MAX_BACKOFF_MS } from "../../../lib/worker/backoff.ts";
import { setup } from "./worker-test-bundle.ts";

const unreachable = () => new TqdUnreachableError("http://127.0.0.1:7070", Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" }));

describe("worker with an unreachable server", () => {
  it("retries polls with backoff, warning once when the server goes and once when it is back", async () => {
    const b = setup({ t: async () => {} });
    await b.worker.start();
    for (let failure = 0; failure < 4; failure++) {
      (await b.client.polls.next()).refuse(unreachable());
      await b.clock.advance(MAX_BACKOFF_MS);
    }
    (await b.client.polls.next()).answer([]);
    await b.client.polls.next();
    expect(b.logged("warn", "unreachable")).toHaveLength(1);
    expect(b.logged("warn", "unreachable")[0]?.error).toContain("ECONNREFUSED");
    expect(b.logged("info", "reachable again")).toHaveLength(1);
    await b.worker.stop();
  });

  it("logs a refused poll once while it repeats, and keeps retrying", async () => {
    const b = setup({ t: async () => {} });
    await b.worker.start();
    for (let refusal = 0; refusal < 3; refusal++) {
      (await b.client.polls.next()).refuse(new TqdApiError(401, "unauthorized", "missing or wrong token"));
      await b.clock.advance(MAX_BACKOFF_MS);
    }
    await b.client.polls.next();
    expect(b.logged("error", "poll failed")).toHaveLength(1);
    await b.worker.stop();
  });

  it("retries complete while the server is unreachable, until it answers", async () => {
    const b = setup({ t: async () => 42 });
    let calls = 0;
    b.client.completeBehaviour = async (call) => {
      calls += 1;
      if (calls <= 2) throw unreachable();
      return { id: call.id, state: "completed" };
    };
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.completes.next();
    for (let step = 0; step < 10 && calls < 3; step++) await b.clock.advance(MAX_BACKOFF_MS);
    expect(b.client.completes.calls.map((call) => call.result)).toEqual([42, 42, 42]);
    expect(b.logged("warn", "unreachable")).toHaveLength(1);
    expect(b.logged("info", "reachable again")).toHaveLength(1);
    await b.worker.stop();
  });

  it("gives up reporting once the lease has expired", async () => {
    const b = setup({ t: async () => 42 });
    b.client.completeBehaviour = async () => {
      throw unreachable();
    };
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]); // 60 s lease
    for (let step = 0; step < 20 && b.logged("warn", "gave up").length === 0; step++) await b.clock.advance(MAX_BACKOFF_MS);
    expect(b.logged("warn", "gave up")).toHaveLength(1);
    const attempts = b.client.completes.calls.length;
    await b.clock.advance(60_000);
    expect(b.client.completes.calls).toHaveLength(attempts);
    await b.worker.stop();
  });
});

describe("backoffDelayMs", () => {
  it("doubles from 100 ms up to 5 s, jittered within the upper half", () => {
    expect([0, 1, 2, 3].map((failures) => backoffDelayMs(failures, () => 0.999999))).toEqual([100, 200, 400, 800]);
    expect([0, 1, 2, 3].map((failures) => backoffDelayMs(failures, () => 0))).toEqual([50, 100, 200, 400]);
    expect(backoffDelayMs(50, () => 0.999999)).toBe(MAX_BACKOFF_MS);
  });
});
