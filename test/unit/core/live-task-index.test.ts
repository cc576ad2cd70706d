import { describe, expect, test } from "vitest";
import { ALPHABET, RANDOM_FROM, SEQ_DIGITS, TIME_DIGITS } from "../../../lib/core/index.ts";
import { LiveTaskIndex } from "../../../lib/core/live-task-index.ts";

interface Task {
  readonly id: string;
  readonly seq: number;
  readonly tag: number;
}

/** An id shaped like a minted one, carrying `carried` as its seq. */
function mintedId(carried: number, random = "00000"): string {
  let digits = "";
  for (let rest = carried, i = 0; i < SEQ_DIGITS; i++, rest = Math.floor(rest / 32)) digits = ALPHABET[rest % 32] + digits;
  return "0".repeat(TIME_DIGITS) + digits + random.padStart(26 - RANDOM_FROM, "0");
}

describe("LiveTaskIndex", () => {
  test("behaves as a Map by id over random adds, replacements and deletes", () => {
    const index = new LiveTaskIndex<Task>();
    const model = new Map<string, Task>();
    // A 32-bit LCG in integer arithmetic (a product of doubles would lose its low bits), high bits used.
    let seed = 11;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Ids of every kind: minted (carrying their seq), a producer's, one that looks minted but
    // carries another seq (a requeued task), and ids with the same seq digits and other random
    // digits (another task claiming a seq, which one store never has).
    const ids = [
      ...Array.from({ length: 200 }, (_, i) => mintedId(1 + i)),
      ...Array.from({ length: 40 }, (_, i) => mintedId(1 + i, "ZZZZZ")),
      ...Array.from({ length: 60 }, (_, i) => `order-${i}`),
      "",
      "a",
      mintedId(2 ** 40 + 3),
      mintedId(Number.MAX_SAFE_INTEGER),
    ];
    const seqsOf = (id: string, n: number) => [n, 1 + (n % 200), 2 ** 40 + 3, 1 + ((n * 7) % 250)];
    for (let step = 0; step < 40_000; step++) {
      const id = ids[random(ids.length)]!;
      if (random(3) === 0) {
        expect(index.delete(id)).toBe(model.delete(id));
      } else {
        const options = seqsOf(id, step);
        // Mostly the seq the id carries (a minted task), else another.
        const carried = ids.indexOf(id) < 200 ? 1 + ids.indexOf(id) : undefined;
        const seq = carried !== undefined && random(4) !== 0 ? carried : options[random(options.length)]!;
        const task = { id, seq, tag: step };
        index.add(task);
        model.set(id, task);
      }
      expect(index.get(id)).toBe(model.get(id));
      expect(index.has(id)).toBe(model.has(id));
      expect(index.size).toBe(model.size);
    }
    const byTag = (a: Task, b: Task) => a.tag - b.tag;
    expect([...index.values()].sort(byTag)).toEqual([...model.values()].sort(byTag));
  });

  test("pages hold the tasks that carry their seq, and go with their last task", () => {
    const index = new LiveTaskIndex<Task>();
    const pages = () => (index as unknown as { pages: Map<number, unknown> }).pages;
    const others = () => (index as unknown as { others: Map<string, unknown> }).others;
    for (let seq = 1; seq <= 1_000; seq++) index.add({ id: mintedId(seq), seq, tag: seq });
    index.add({ id: "order-1", seq: 1_001, tag: 0 });
    index.add({ id: mintedId(5), seq: 1_002, tag: 0 }); // requeued: replaces the task of seq 5
    expect(index.size).toBe(1_001);
    expect(others().size).toBe(2);
    expect(pages().size).toBe(Math.ceil(1_001 / 32));
    expect(index.get(mintedId(5))?.seq).toBe(1_002);
    for (let seq = 1; seq <= 1_000; seq++) index.delete(mintedId(seq));
    expect(pages().size).toBe(0);
    expect([...index.values()].map((task) => task.id)).toEqual(["order-1"]);
    expect(index.get(mintedId(6))).toBeUndefined();
  });
});
