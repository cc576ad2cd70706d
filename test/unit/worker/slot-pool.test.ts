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
});
