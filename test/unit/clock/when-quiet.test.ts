import { describe, expect, test } from "vitest";
import { whenQuiet, type QuietWait } from "../../../lib/clock/when-quiet.ts";
import { FakeClock } from "../../support/fake-clock.ts";

/** Starts a wait and records the fake time it ended at. */
function startWait(clock: FakeClock, wait: QuietWait): { quiet: Promise<boolean>; endedAt: () => number | undefined } {
  let endedAt: number | undefined;
  const quiet = whenQuiet(clock, wait).then((found) => {
    endedAt = clock.now();
    return found;
  });
  return { quiet, endedAt: () => endedAt };
}

describe("whenQuiet", () => {
  test("no activity: resolves true after one window", async () => {
    const clock = new FakeClock();
    const started = clock.now();
    const { quiet, endedAt } = startWait(clock, { activity: () => 0, windowMs: 100, giveUpAfterMs: 10_000 });
    await clock.advance(99);
    expect(endedAt()).toBeUndefined();
    await clock.advance(1);
    expect(await quiet).toBe(true);
    expect(endedAt()! - started).toBe(100);
  });

  test("activity in every window: waits for the first window without any", async () => {
    const clock = new FakeClock();
    const started = clock.now();
    let requests = 0;
    const { quiet, endedAt } = startWait(clock, { activity: () => requests, windowMs: 100, giveUpAfterMs: 10_000 });
    for (let window = 0; window < 5; window++) {
      await clock.advance(50);
      requests++; // one request in the middle of each window
      await clock.advance(50);
      expect(endedAt()).toBeUndefined();
    }
    await clock.advance(100);
    expect(await quiet).toBe(true);
    expect(endedAt()! - started).toBe(600);
  });

  test("never quiet: gives up at the deadline with false", async () => {
    const clock = new FakeClock();
    let requests = 0;
    const quiet = whenQuiet(clock, { activity: () => requests++, windowMs: 100, giveUpAfterMs: 1_000 });
    await clock.advance(1_000);
    expect(await quiet).toBe(false);
    expect(clock.pendingSleeps).toBe(0);
  });

  test("an abort ends the wait with false", async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    let requests = 0;
    const quiet = whenQuiet(clock, { activity: () => requests++, windowMs: 100, giveUpAfterMs: 10_000, signal: abort.signal });
    await clock.advance(250);
    abort.abort();
    expect(await quiet).toBe(false);
    expect(clock.pendingSleeps).toBe(0);
  });
});
