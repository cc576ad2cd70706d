import { describe, expect, it } from "vitest";
import { LeaseWatch } from "../../../lib/worker/lease-watch.ts";
import { FakeClock } from "../../support/fake-clock.ts";

/** A lease whose deadline the test moves; records when it expired. */
function lease(clock: FakeClock, inMs: number) {
  const record = { leaseDeadlineMs: clock.now() + inMs, expiredAtMs: undefined as number | undefined };
  return Object.assign(record, { expire: () => (record.expiredAtMs = clock.now()) });
}

describe("LeaseWatch: one sleeper for every lease's deadline", () => {
  it("expires each lease at its own deadline with a single sleep pending", async () => {
    const clock = new FakeClock();
    const watch = new LeaseWatch(clock);
    const start = clock.now();
    const late = lease(clock, 30_000);
    const early = lease(clock, 10_000);
    watch.add(late);
    watch.add(early); // earlier than the sleep under way: wakes it
    await clock.advance(0);
    expect(clock.pendingSleeps).toBe(1);
    await clock.advance(9_999);
    expect(early.expiredAtMs).toBeUndefined();
    await clock.advance(1);
    expect(early.expiredAtMs).toBe(start + 10_000);
    expect(late.expiredAtMs).toBeUndefined();
    await clock.advance(20_000);
    expect(late.expiredAtMs).toBe(start + 30_000);
    expect(watch.size).toBe(0);
    expect(clock.pendingSleeps).toBe(0);
  });

  it("re-checks a deadline a heartbeat moved later instead of expiring it", async () => {
    const clock = new FakeClock();
    const watch = new LeaseWatch(clock);
    const start = clock.now();
    const moved = lease(clock, 10_000);
    watch.add(moved);
    await clock.advance(5_000);
    moved.leaseDeadlineMs = start + 60_000;
    await clock.advance(10_000);
    expect(moved.expiredAtMs).toBeUndefined();
    await clock.advance(45_000);
    expect(moved.expiredAtMs).toBe(start + 60_000);
  });

  it("forgets a released lease, and ends its sleep once nothing is left to watch", async () => {
    const clock = new FakeClock();
    const watch = new LeaseWatch(clock);
    const a = lease(clock, 10_000);
    const b = lease(clock, 20_000);
    watch.add(a);
    watch.add(b);
    await clock.advance(0);
    watch.delete(a);
    await clock.advance(15_000);
    expect(a.expiredAtMs).toBeUndefined();
    watch.delete(b);
    await clock.advance(0);
    expect(clock.pendingSleeps).toBe(0); // no timer keeps the process alive
    const c = lease(clock, 1_000);
    watch.add(c); // the watch starts again
    await clock.advance(1_000);
    expect(c.expiredAtMs).toBe(clock.now());
    expect(b.expiredAtMs).toBeUndefined();
  });
});
