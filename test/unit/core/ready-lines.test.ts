/**
 * The ready lines of one queue: a queue whose tasks share one priority, fairness key and type
 * keeps them flat (one ring); the first task of another kind moves them into levels and lines.
 * Both forms must hand out the same tasks in the same order.
 */
import { describe, expect, test } from "vitest";
import { LiveTask } from "../../../lib/core/live-task.ts";
import { ReadyLines, type KeyPolicy } from "../../../lib/core/ready-lines.ts";
import { anOptions } from "../../support/task-builders.ts";

const QUEUE = "q";
let seq = 0;

function task(type = "t", extra: { priority?: number; key?: string; readyAt?: number } = {}): LiveTask {
  seq++;
  return new LiveTask({
    id: `t${seq}`,
    seq,
    queue: QUEUE,
    type,
    state: "pending",
    priority: extra.priority ?? 3,
    fairnessKey: extra.key,
    options: anOptions(),
    createdAt: 0,
    readyAt: extra.readyAt ?? seq,
    inputJson: undefined,
  });
}

const open: KeyPolicy = { weight: () => 1, allows: () => true, took: () => {} };
const ids = (tasks: LiveTask[]) => tasks.map((t) => t.id);

describe("ready lines", () => {
  test("one kind of task: FIFO, only for polls naming its type, stale entries skipped", () => {
    const lines = new ReadyLines(QUEUE);
    const [a, b, c, d] = [task(), task(), task(), task()];
    for (const t of [a!, b!, c!, d!]) lines.push(t);
    b!.state = "running";
    c!.queue = "elsewhere";
    expect(lines.take(["other"], 10, open)).toEqual([]);
    expect(lines.oldestReadyAt()).toBe(a!.readyAt);
    expect(lines.census()).toEqual({ byLevel: [0, 0, 1 + 1, 0, 0], byKey: new Map([["", 2]]), byType: new Map([["t", 2]]) });
    expect(ids(lines.take(["other", "t"], 1, open))).toEqual([a!.id]);
    expect(ids(lines.take(["t"], 10, open))).toEqual([d!.id]);
    expect(lines.take(["t"], 10, open)).toEqual([]);
  });

  test("a redelivered task goes back to the front", () => {
    const lines = new ReadyLines(QUEUE);
    const [a, b] = [task(), task()];
    lines.push(a!);
    lines.push(b!);
    const [first] = lines.take(["t"], 1, open);
    lines.unshift(first!);
    expect(ids(lines.take(["t"], 2, open))).toEqual([a!.id, b!.id]);
  });

  test("the key's own rate limit holds a flat queue back, and every take is told", () => {
    const lines = new ReadyLines(QUEUE);
    for (let i = 0; i < 3; i++) lines.push(task("t", { key: "tenant" }));
    let tokens = 2;
    const took: string[] = [];
    const limited: KeyPolicy = { weight: () => 1, allows: () => tokens > 0, took: (key) => (tokens--, took.push(key)) };
    expect(lines.take(["t"], 10, limited)).toHaveLength(2);
    expect(took).toEqual(["tenant", "tenant"]);
  });

  test("a second type, key or priority keeps every task and the order of each line", () => {
    for (const second of [{ type: "u" }, { key: "k2" }, { priority: 1 }]) {
      const lines = new ReadyLines(QUEUE);
      const firsts = [task(), task(), task()];
      for (const t of firsts) lines.push(t);
      const other = task(second.type ?? "t", { key: second.key, priority: second.priority });
      lines.push(other);
      const later = task();
      lines.push(later);
      const taken = ids(lines.take(["t", "u"], 10, open));
      expect([...taken].sort()).toEqual(ids([...firsts, other, later]).sort());
      // Within the first kind, FIFO across the move.
      expect(taken.filter((id) => id !== other.id)).toEqual(ids([...firsts, later]));
      if (second.priority === 1) expect(taken[0]).toBe(other.id);
    }
  });

  test("after the move, keys take turns and the census counts every line", () => {
    const lines = new ReadyLines(QUEUE);
    const a = [task("t", { key: "a" }), task("t", { key: "a" }), task("t", { key: "a" })];
    for (const t of a) lines.push(t);
    const b = [task("t", { key: "b" }), task("t", { key: "b" })];
    for (const t of b) lines.push(t);
    expect(lines.census().byKey).toEqual(new Map([["a", 3], ["b", 2]]));
    expect(lines.oldestReadyAt()).toBe(a[0]!.readyAt);
    expect(ids(lines.take(["t"], 4, open))).toEqual(ids([a[0]!, b[0]!, a[1]!, b[1]!]));
  });

  test("an emptied flat queue takes a task of any kind without moving", () => {
    const lines = new ReadyLines(QUEUE);
    lines.push(task("t"));
    lines.take(["t"], 1, open);
    const next = [task("u", { key: "k", priority: 5 }), task("u", { key: "k", priority: 5 })];
    for (const t of next) lines.push(t);
    expect(lines.census().byLevel).toEqual([0, 0, 0, 0, 2]);
    expect(ids(lines.take(["u"], 5, open))).toEqual(ids(next));
  });
  test("a lone task: held without a ring, then joined by others of its kind or another", () => {
    for (const second of [{ type: "t" }, { type: "u" }, { key: "k2" }, { priority: 1 }]) {
      const lines = new ReadyLines(QUEUE);
      const lone = task();
      lines.push(lone);
      expect(lines.census().byType).toEqual(new Map([["t", 1]]));
      expect(lines.oldestReadyAt()).toBe(lone.readyAt);
      const other = task(second.type ?? "t", { key: second.key, priority: second.priority });
      lines.push(other);
      const expected = second.priority === 1 ? [other, lone] : [lone, other];
      expect(ids(lines.take(["t", "u"], 10, open))).toEqual(ids(expected));
    }
  });

  test("a redelivered task goes in front of a lone one; a lone stale entry is dropped", () => {
    const lines = new ReadyLines(QUEUE);
    const [a, b] = [task(), task()];
    lines.push(a!);
    lines.unshift(b!);
    expect(ids(lines.take(["t"], 10, open))).toEqual([b!.id, a!.id]);
    const stale = task();
    lines.push(stale);
    stale.state = "running";
    expect(lines.take(["t"], 10, open)).toEqual([]);
    const next = task();
    lines.push(next);
    expect(ids(lines.take(["t"], 10, open))).toEqual([next.id]);
  });

  test("a lone task waits while its key's rate limit has no token", () => {
    const lines = new ReadyLines(QUEUE);
    lines.push(task("t", { key: "tenant" }));
    const closed: KeyPolicy = { weight: () => 1, allows: () => false, took: () => {} };
    expect(lines.take(["t"], 1, closed)).toEqual([]);
    expect(lines.take(["t"], 1, open)).toHaveLength(1);
  });
});
