import { describe, expect, it } from "vitest";
import { SlotPool } from "../../../lib/worker/slot-pool.ts";

describe("SlotPool", () => {
  it("gives slots released together (one acknowledgement batch) to a waiting loop in one grant", async () => {
    const pool = new SlotPool(4, () => 0);
    const account = pool.open();
    account.notePollResult(1); // busy: it may ask for every slot
    const never = new AbortController().signal;
    expect((await account.reserve(never)).count).toBe(4);
    const waiting = account.reserve(never);
    account.release(1);
    account.release(1);
    account.release(1);
    // One poll for the three, not a poll for the first and two more later.
    expect((await waiting).count).toBe(3);
    expect(pool.free).toBe(0);
  });

  it("right after starting tasks, waits for slots those tasks release (or two turns) even with slots free", async () => {
    const pool = new SlotPool(4, () => 0);
    const account = pool.open();
    account.notePollResult(1);
    const never = new AbortController().signal;
    expect((await account.reserve(never)).count).toBe(4);
    account.release(1); // one slot was already free when the tasks started
    let granted: number | undefined;
    const waiting = account.reserve(never, true).then((grant) => (granted = grant.count));
    await Promise.resolve();
    expect(granted).toBeUndefined();
    account.release(2); // two tasks ended at once: one grant for all three
    await waiting;
    expect(granted).toBe(3);
    // Nothing released meanwhile: the free slot is granted after two turns.
    account.release(1);
    const later = account.reserve(never, true);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect((await later).count).toBe(1);
  });
});
