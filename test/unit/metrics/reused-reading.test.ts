import { describe, expect, test } from "vitest";
import { reusedReading } from "../../../lib/metrics/reused-reading.ts";

describe("reusedReading", () => {
  test("reads once per interval and reuses the value in between; a clock set back reads again", () => {
    let now = 10_000;
    let reads = 0;
    const reading = reusedReading(1_000, () => now, () => ++reads);
    expect(reading()).toBe(1);
    now += 999;
    expect(reading()).toBe(1);
    now += 1;
    expect(reading()).toBe(2);
    now += 5_000;
    expect(reading()).toBe(3);
    expect(reading()).toBe(3);
    now -= 60_000;
    expect(reading()).toBe(4);
    expect(reads).toBe(4);
  });
});
