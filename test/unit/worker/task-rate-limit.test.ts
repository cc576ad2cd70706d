import { describe, expect, it } from "vitest";
import { TaskRateLimit } from "../../../lib/worker/index.ts";
import { FakeClock } from "../../support/fake-clock.ts";

const never = new AbortController().signal;

describe("TaskRateLimit", () => {
  it("starts full, holding one second of the rate and at least one token", () => {
    const clock = new FakeClock();
    expect(new TaskRateLimit(5, clock).available).toBe(5);
    expect(new TaskRateLimit(2.5, clock).burst).toBe(2);
    expect(new TaskRateLimit(0.5, clock).burst).toBe(1);
    expect(new TaskRateLimit(1 / 3600, clock).available).toBe(1);
  });

  it("takes at most the whole tokens available, without waiting while there are some", async () => {
    const limit = new TaskRateLimit(5, new FakeClock());
    expect(await limit.take(3, never)).toBe(3);
    expect(await limit.take(10, never)).toBe(2);
    expect(limit.available).toBe(0);
  });

  it("waits on the clock until a token has accrued", async () => {
    const clock = new FakeClock();
    const limit = new TaskRateLimit(2, clock);
    await limit.take(2, never);
    let taken: number | undefined;
    const taking = limit.take(5, never).then((count) => (taken = count));
    await clock.untilSleeping();
    await clock.advance(499);
    expect(taken).toBeUndefined();
    await clock.advance(1);
    await taking;
    expect(taken).toBe(1); // one token accrued in 500 ms at 2/s
  });

  it("accrues tokens over time up to the burst, never beyond", async () => {
    const clock = new FakeClock();
    const limit = new TaskRateLimit(10, clock);
    await limit.take(10, never);
    await clock.advance(300);
    expect(limit.available).toBe(3);
    await clock.advance(60_000);
    expect(limit.available).toBe(10);
  });

  it("takes back refunded tokens, capped at the burst", async () => {
    const limit = new TaskRateLimit(4, new FakeClock());
    await limit.take(3, never);
    limit.refund(2);
    expect(limit.available).toBe(3);
    limit.refund(100);
    expect(limit.available).toBe(4);
  });

  it("goes into debt for tasks started beyond the tokens taken, delaying the next token", async () => {
    const clock = new FakeClock();
    const limit = new TaskRateLimit(1, clock);
    await limit.take(1, never);
    limit.spend(2);
    let taken = 0;
    const taking = limit.take(1, never).then((count) => (taken = count));
    await clock.untilSleeping();
    await clock.advance(2_999);
    expect(taken).toBe(0);
    await clock.advance(1);
    await taking;
    expect(taken).toBe(1);
  });

  it("returns 0 without taking a token once its signal aborts", async () => {
    const clock = new FakeClock();
    const limit = new TaskRateLimit(1, clock);
    await limit.take(1, never);
    const stop = new AbortController();
    const taking = limit.take(1, stop.signal);
    await clock.untilSleeping();
    stop.abort();
    expect(await taking).toBe(0);
    await clock.advance(1_000);
    expect(limit.available).toBe(1);
  });
});
