import { describe, expect, test } from "vitest";
import { DeadlineHeap } from "../../../lib/core/deadline-heap.ts";
import { RingQueue } from "../../../lib/core/ring-queue.ts";

describe("ring queue", () => {
  test("keeps FIFO order across wrap-around, growth and shrinking", () => {
    const ring = new RingQueue<number>(4);
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 200; round++) {
      const pushes = (round * 7) % 11;
      for (let i = 0; i < pushes; i++) {
        ring.push(next);
        model.push(next++);
      }
      const shifts = (round * 5) % 13;
      for (let i = 0; i < shifts; i++) expect(ring.shift()).toBe(model.shift());
      expect(ring.length).toBe(model.length);
    }
    while (model.length > 0) expect(ring.shift()).toBe(model.shift());
    expect(ring.shift()).toBeUndefined();
  });

  test("unshift puts an item back at the front", () => {
    const ring = new RingQueue<string>(2);
    ring.push("b");
    ring.push("c");
    ring.unshift("a");
    expect([ring.shift(), ring.shift(), ring.shift()]).toEqual(["a", "b", "c"]);
  });
});

describe("deadline heap", () => {
  test("pops due entries in deadline order and nothing early", () => {
    const heap = new DeadlineHeap<string>();
    const deadlines = [50, 10, 40, 10, 30, 20, 60];
    deadlines.forEach((at, i) => heap.push(at, `k${i}`));
    expect(heap.peekAt()).toBe(10);
    const popped: number[] = [];
    for (let e = heap.popDue(45); e; e = heap.popDue(45)) popped.push(e.at);
    expect(popped).toEqual([10, 10, 20, 30, 40]);
    expect(heap.size).toBe(2);
    expect(heap.peekAt()).toBe(50);
  });
});
