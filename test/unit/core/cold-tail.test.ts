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
  test("gives listed seqs back a chunk at a time, in order", () => {
    const tail = tailOf(10, 11, 12, 13, 14);
    expect(tail.nextSeqs(2)).toEqual([10, 11]);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(10, 11), 11, found)).toBe(0);
    expect(found.map((row) => row.seq)).toEqual([10, 11]);
    expect(tail.count).toBe(3);
    expect(tail.nextSeqs(10)).toEqual([12, 13, 14]);
  });

  test("unlists the seqs asked for that had no row (no longer pending)", () => {
    const tail = tailOf(10, 12, 14, 16);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(10, 14), 16, found)).toBe(2);
    expect(found.map((row) => row.seq)).toEqual([10, 14]);
    expect(tail.count).toBe(0);
    expect(tail.nextSeqs(10)).toEqual([]);
  });

  test("seqs after the last one asked for stay listed", () => {
    const tail = tailOf(1, 2, 3, 4);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(1, 2), 2, found)).toBe(0);
    expect(tail.count).toBe(2);
    expect(tail.nextSeqs(10)).toEqual([3, 4]);
  });

  test("a row it does not list is left alone", () => {
    const tail = tailOf(1, 3);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(1, 2, 3), 3, found)).toBe(0);
    expect(found.map((row) => row.seq)).toEqual([1, 3]);
  });

  test("a seq added out of order is given back in its place", () => {
    const tail = tailOf(20, 21, 23);
    tail.add(22);
    tail.add(5);
    expect(tail.nextSeqs(10)).toEqual([5, 20, 21, 22, 23]);
  });

  test("a removed seq (read in by id) is skipped and cannot be removed twice", () => {
    const tail = tailOf(1, 2, 3);
    expect(tail.remove(2)).toBe(true);
    expect(tail.remove(2)).toBe(false);
    expect(tail.remove(7)).toBe(false);
    expect(tail.count).toBe(2);
    expect(tail.nextSeqs(10)).toEqual([1, 3]);
    const found: { seq: number }[] = [];
    expect(tail.take(rows(1, 3), 3, found)).toBe(0);
    expect(found.map((row) => row.seq)).toEqual([1, 3]);
    expect(tail.count).toBe(0);
  });

  test("a removed head is stepped over", () => {
    const tail = tailOf(1, 2, 3);
    tail.remove(1);
    expect(tail.nextSeqs(1)).toEqual([2]);
  });

  test("holds a hundred thousand seqs and gives every one back", () => {
    const tail = new ColdTail(line);
    for (let seq = 1; seq <= 100_000; seq++) tail.add(seq);
    expect(tail.count).toBe(100_000);
    let read = 0;
    for (let seqs = tail.nextSeqs(4096); seqs.length > 0; seqs = tail.nextSeqs(4096)) {
      const found: { seq: number }[] = [];
      tail.take(seqs.map((seq) => ({ seq })), seqs[seqs.length - 1]!, found);
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
