import { describe, expect, test } from "vitest";
import { SplitMap } from "../../../lib/core/split-map.ts";

describe("SplitMap", () => {
  test("behaves as a Map over random sets, overwrites and deletes of short and long keys", () => {
    const split = new SplitMap<number>();
    const model = new Map<string, number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const keys = ["", "a", "b", "ab", "ba", ...Array.from({ length: 300 }, (_, i) => `task-${i}`), ...Array.from({ length: 300 }, (_, i) => `01JX${i.toString(32).padStart(22, "0")}`)];
    for (let step = 0; step < 20_000; step++) {
      const key = keys[random(keys.length)]!;
      const op = random(3);
      if (op === 0) {
        expect(split.delete(key)).toBe(model.delete(key));
      } else {
        split.set(key, step);
        model.set(key, step);
      }
      expect(split.get(key)).toBe(model.get(key));
      expect(split.has(key)).toBe(model.has(key));
      expect(split.size).toBe(model.size);
    }
    expect([...split.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
  });

  test("spreads minted ids over its tables", () => {
    const split = new SplitMap<number>();
    const digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for (let i = 0; i < 32 * 32; i++) split.set(`01JX000000000000000000A${digits[i >> 5]}${digits[i & 31]}`, i);
    const shards = (split as unknown as { shards: Map<string, number>[] }).shards.map((shard) => shard.size);
    expect(shards).toHaveLength(16);
    // 1,024 ids over 16 tables: 64 each if even; the digits' character codes are not quite.
    expect(Math.min(...shards)).toBeGreaterThanOrEqual(52);
    expect(Math.max(...shards)).toBeLessThanOrEqual(76);
  });
});
