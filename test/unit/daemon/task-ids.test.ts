import { describe, expect, test } from "vitest";
import { randomIds } from "../../../lib/daemon/task-ids.ts";

describe("minted ids", () => {
  test("task ids are 26 Crockford base32 digits that sort by creation time", () => {
    const early = randomIds.taskId(Date.UTC(2030, 0, 1));
    const late = randomIds.taskId(Date.UTC(2030, 0, 1) + 1);
    expect(early).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(early.slice(0, 10)).toBe("01Q3DCBD00");
    expect(early < late).toBe(true);
    expect(randomIds.taskId(Date.UTC(2030, 0, 1))).not.toBe(early);
  });

  test("lease tokens are 25 random base32 digits", () => {
    const tokens = new Set(Array.from({ length: 1_000 }, () => randomIds.leaseToken()));
    expect(tokens.size).toBe(1_000);
    for (const token of tokens) expect(token).toMatch(/^[0-9A-HJKMNP-TV-Z]{25}$/);
  });

  test("every position of a token and of a task id's random part takes every digit (a pool of random bytes serves them)", () => {
    const positions = (values: string[], from: number, to: number) =>
      Array.from({ length: to - from }, (_, offset) => new Set(values.map((value) => value[from + offset])).size);
    const tokens = Array.from({ length: 2_000 }, () => randomIds.leaseToken());
    expect(positions(tokens, 0, 25)).toEqual(new Array(25).fill(32));
    const ids = Array.from({ length: 2_000 }, () => randomIds.taskId(Date.UTC(2030, 0, 1)));
    expect(new Set(ids).size).toBe(2_000);
    expect(positions(ids, 10, 26)).toEqual(new Array(16).fill(32));
  });
});
