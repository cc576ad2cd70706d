import { describe, expect, it } from "vitest";
import { SignalFanout } from "../../../lib/worker/signal-fanout.ts";

describe("SignalFanout", () => {
  it("calls each callback still added once when the signal aborts, and later ones at once", () => {
    const controller = new AbortController();
    const fanout = new SignalFanout(controller.signal);
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    fanout.add(a);
    fanout.add(b);
    fanout.delete(a);
    controller.abort();
    controller.abort();
    expect(calls).toEqual(["b"]);
    fanout.add(() => calls.push("late"));
    expect(calls).toEqual(["b", "late"]);
  });
});
