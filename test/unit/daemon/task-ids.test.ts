import { describe, expect, test } from "vitest";
import { idNeedsIndex, seqInTaskId } from "../../../lib/core/index.ts";
import { mintedIds } from "../../../lib/daemon/task-ids.ts";

const AT = Date.UTC(2030, 0, 1);

describe("minted ids", () => {
  test("task ids are 26 Crockford base32 digits that sort by creation time, then by seq", () => {
    const early = mintedIds.taskId(AT, 7);
    const late = mintedIds.taskId(AT + 1, 1);
    expect(early).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(early.slice(0, 10)).toBe("01Q3DCBD00");
    expect(early.slice(10, 21)).toBe("00000000007");
    expect(early < late).toBe(true);
    expect(mintedIds.taskId(AT, 7) < mintedIds.taskId(AT, 8)).toBe(true);
    expect(mintedIds.taskId(AT, 7)).not.toBe(early);
  });

  test("a task id carries its seq, up to the largest safe integer", () => {
    for (const seq of [1, 31, 32, 1_000_000, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const id = mintedIds.taskId(AT, seq);
      expect(seqInTaskId(id)).toBe(seq);
      expect(idNeedsIndex(id, seq)).toBe(false);
      expect(idNeedsIndex(id, seq + 1)).toBe(true);
    }
  });

  test("ids that cannot carry a seq say so: other lengths, other characters, seq 0, past 2^53", () => {
    const id = mintedIds.taskId(AT, 12);
    expect(seqInTaskId(id.toLowerCase())).toBeUndefined();
    expect(seqInTaskId(id.slice(1))).toBeUndefined();
    expect(seqInTaskId(`${id}0`)).toBeUndefined();
    expect(seqInTaskId(`${id.slice(0, 15)}U${id.slice(16)}`)).toBeUndefined();
    expect(seqInTaskId(`${id.slice(0, 10)}00000000000${id.slice(21)}`)).toBeUndefined();
    expect(seqInTaskId(`${id.slice(0, 10)}ZZZZZZZZZZZ${id.slice(21)}`)).toBeUndefined();
    expect(seqInTaskId("order-1234")).toBeUndefined();
    expect(idNeedsIndex("order-1234", 5)).toBe(true);
    // A workflow id has the same shape but carries no seq the store relies on.
    expect(mintedIds.workflowId(AT)).toMatch(/^01Q3DCBD00[0-9A-HJKMNP-TV-Z]{16}$/);
  });

  test("lease tokens are 25 random base32 digits", () => {
    const tokens = new Set(Array.from({ length: 1_000 }, () => mintedIds.leaseToken()));
    expect(tokens.size).toBe(1_000);
    for (const token of tokens) expect(token).toMatch(/^[0-9A-HJKMNP-TV-Z]{25}$/);
  });

  test("every position of a token and of an id's random part takes every digit (a pool of random bytes serves them)", () => {
    const positions = (values: string[], from: number, to: number) =>
      Array.from({ length: to - from }, (_, offset) => new Set(values.map((value) => value[from + offset])).size);
    const tokens = Array.from({ length: 2_000 }, () => mintedIds.leaseToken());
    expect(positions(tokens, 0, 25)).toEqual(new Array(25).fill(32));
    const ids = Array.from({ length: 2_000 }, () => mintedIds.taskId(AT, 1));
    expect(new Set(ids.map((id) => id.slice(21))).size).toBeGreaterThan(1_900);
    expect(positions(ids, 21, 26)).toEqual(new Array(5).fill(32));
    const workflowIds = Array.from({ length: 2_000 }, () => mintedIds.workflowId(AT));
    expect(new Set(workflowIds).size).toBe(2_000);
    expect(positions(workflowIds, 10, 26)).toEqual(new Array(16).fill(32));
  });
});
