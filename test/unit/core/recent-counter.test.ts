import { describe, expect, test } from "vitest";
import { RecentCounter } from "../../../lib/core/recent-counter.ts";

const T0 = 1_700_000_000_000; // a whole second

describe("RecentCounter", () => {
  test("events within one second: counted for 60 s, then gone", () => {
    const counter = new RecentCounter();
    counter.add(T0, 2);
    counter.add(T0 + 999);
    expect(counter.total(T0 + 999)).toBe(3);
    expect(counter.total(T0 + 59_999)).toBe(3);
    expect(counter.total(T0 + 60_000)).toBe(0);
  });

  test("events over several seconds: the window slides one second at a time", () => {
    const counter = new RecentCounter();
    counter.add(T0);
    counter.add(T0 + 1_000, 2);
    counter.add(T0 + 30_000, 4);
    expect(counter.total(T0 + 30_000)).toBe(7);
    expect(counter.total(T0 + 60_000)).toBe(6); // the first second left the window
    expect(counter.total(T0 + 61_000)).toBe(4);
    counter.add(T0 + 89_000);
    expect(counter.total(T0 + 90_000)).toBe(1);
    expect(counter.total(T0 + 200_000)).toBe(0);
  });

  test("a quiet gap longer than the window starts over", () => {
    const counter = new RecentCounter();
    counter.add(T0, 5);
    counter.add(T0 + 120_000);
    expect(counter.total(T0 + 120_000)).toBe(1);
  });
});
