import { describe, expect, test } from "vitest";
import { DEFAULT_MEMORY_BACKLOG } from "../../../lib/config/serve-config.ts";
import { ColdTail, DEFAULT_HOT_TASKS } from "../../../lib/core/cold-tail.ts";

const line = { queue: "q", type: "t", priority: 3, fairnessKey: undefined };
const rows = (...seqs: number[]) => seqs.map((seq) => ({ seq }));

function tailOf(...seqs: number[]): ColdTail {
  const tail = new ColdTail(line);
  for (const seq of seqs) tail.add(seq);
  return tail;
}

describe("ColdTail", () => {
  test("reads listed seqs back a chunk at a time, in order", () => {
    const tail = tailOf(10, 11, 12, 13, 14);
    expect(tail.nextRange(2)).toEqual({ afterSeq: 9, upToSeq: 11 });
    const found: { seq: number }[] = [];
    expect(tail.take(rows(10, 11), 11, true, found)).toBe(0);
    expect(found.map((row) => row.seq)).toEqual([10, 11]);
    expect(tail.count).toBe(3);
    expect(tail.nextRange(10)).toEqual({ afterSeq: 11, upToSeq: 14 });
  });

  test("leaves rows it does not list (an enqueue not yet added) and unlists seqs without a row", () => {
    const tail = tailOf(10, 12, 14, 16);
    const found: { seq: number }[] = [];
    // 11 and 13 are someone else's; 12 is no longer pending; 16 is past the last row of a complete read.
    const missing = tail.take(rows(10, 11, 13, 14), 16, true, found);
    expect(found.map((row) => row.seq)).toEqual([10, 14]);
    expect(missing).toBe(2);
    expect(tail.count).toBe(0);
    expect(tail.nextRange(10)).toBeUndefined();
  });

  test("an incomplete read leaves the seqs after its last row listed", () => {
    const tail = tailOf(1, 2, 3, 4);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(1, 2), 4, false, found)).toBe(0);
    expect(tail.count).toBe(2);
    expect(tail.nextRange(10)).toEqual({ afterSeq: 2, upToSeq: 4 });
  });

  test("a seq added out of order is read in its place", () => {
    const tail = tailOf(20, 21, 23);
    tail.add(22);
    tail.add(5);
    expect(tail.nextRange(10)).toEqual({ afterSeq: 4, upToSeq: 23 });
    const found: { seq: number }[] = [];
    tail.take(rows(5, 20, 21, 22, 23), 23, true, found);
    expect(found.map((row) => row.seq)).toEqual([5, 20, 21, 22, 23]);
  });

  test("a removed seq (read in by id) is skipped by reads and cannot be removed twice", () => {
    const tail = tailOf(1, 2, 3);
    expect(tail.remove(2)).toBe(true);
    expect(tail.remove(2)).toBe(false);
    expect(tail.remove(7)).toBe(false);
    expect(tail.count).toBe(2);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(1, 2, 3), 3, true, found)).toBe(0);
    expect(found.map((row) => row.seq)).toEqual([1, 3]);
    expect(tail.count).toBe(0);
  });

  test("a removed head is stepped over by the next range", () => {
    const tail = tailOf(1, 2, 3);
    tail.remove(1);
    expect(tail.nextRange(1)).toEqual({ afterSeq: 1, upToSeq: 2 });
  });

  test("holds a hundred thousand seqs and reads every one back", () => {
    const tail = new ColdTail(line);
    for (let seq = 1; seq <= 100_000; seq++) tail.add(seq);
    expect(tail.count).toBe(100_000);
    let read = 0;
    for (let range = tail.nextRange(4096); range; range = tail.nextRange(4096)) {
      const found: { seq: number }[] = [];
      const all = Array.from({ length: range.upToSeq - range.afterSeq }, (_, i) => ({ seq: range.afterSeq + 1 + i }));
      tail.take(all, range.upToSeq, true, found);
      read += found.length;
    }
    expect(read).toBe(100_000);
    expect(tail.count).toBe(0);
  });

  test("tells which tasks belong to its line", () => {
    const tail = new ColdTail(line);
    expect(tail.holds({ queue: "q", type: "t", priority: 3, fairnessKey: undefined })).toBe(true);
    expect(tail.holds({ queue: "q", type: "t", priority: 2, fairnessKey: undefined })).toBe(false);
    expect(tail.holds({ queue: "q", type: "t", priority: 3, fairnessKey: "k" })).toBe(false);
    expect(tail.holds({ queue: "q", type: "u", priority: 3, fairnessKey: undefined })).toBe(false);
  });

  test("the serve flag's default is the core's", () => {
    expect(DEFAULT_MEMORY_BACKLOG).toBe(DEFAULT_HOT_TASKS);
  });
});
