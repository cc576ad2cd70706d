/** The pure parts of `tqd enqueue --lines`: reading the lines, cutting batches, minting ascending ids. */
import { describe, expect, test } from "vitest";
import { batchesOf, LINE_BATCH_BYTES, LINE_BATCH_TASKS, parseInputLines } from "../../../cmd/admin/enqueue-lines.ts";
import { newTaskId, taskIdSeries } from "../../../cmd/admin/task-id.ts";
import type { EnqueueRequest } from "../../../lib/protocol/index.ts";

describe("parseInputLines", () => {
  test("one value per non-blank line, in order; CRLF and surrounding blanks are fine", () => {
    expect(parseInputLines('{"a":1}\n\n  [2,3]  \r\n"text"\nnull\n')).toEqual({ ok: true, inputs: [{ a: 1 }, [2, 3], "text", null] });
    expect(parseInputLines("")).toEqual({ ok: true, inputs: [] });
    expect(parseInputLines("\n\n")).toEqual({ ok: true, inputs: [] });
  });

  test("names the first line that is not JSON, counting blank lines", () => {
    const parsed = parseInputLines('{"a":1}\n\n{"a":2}\n{a:3}\nnope\n');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/^line 4 of stdin is not valid JSON/);
  });

  test("a value split over two lines is two bad lines, not one task", () => {
    const parsed = parseInputLines('{"a":\n1}\n');
    expect(!parsed.ok && parsed.message).toMatch(/^line 1 /);
  });
});

describe("batchesOf", () => {
  const task = (i: number, input: unknown = { i }): EnqueueRequest => ({ type: "t", id: `id-${i}`, input });

  test("at most LINE_BATCH_TASKS tasks a batch, in order", () => {
    const requests = Array.from({ length: 2 * LINE_BATCH_TASKS + 1 }, (_, i) => task(i));
    const batches = batchesOf(requests);
    expect(batches.map((batch) => batch.length)).toEqual([LINE_BATCH_TASKS, LINE_BATCH_TASKS, 1]);
    expect(batches.flat()).toEqual(requests);
  });

  test("a batch closes before it would pass the byte budget; a task larger than it goes alone", () => {
    const big = "x".repeat(LINE_BATCH_BYTES);
    const requests = [task(0), task(1), task(2, big), task(3), task(4)];
    expect(batchesOf(requests).map((batch) => batch.map((request) => request.id))).toEqual([["id-0", "id-1"], ["id-2"], ["id-3", "id-4"]]);
    const small = batchesOf(Array.from({ length: 10 }, (_, i) => task(i)), 1_000, 2 * (JSON.stringify(task(0)).length + 1));
    expect(small.map((batch) => batch.length)).toEqual([2, 2, 2, 2, 2]);
  });

  test("no requests, no batches", () => {
    expect(batchesOf([])).toEqual([]);
  });
});

describe("taskIdSeries", () => {
  test("ids of one series share the time and a random part, then count up: unique, ascending, of the usual form", () => {
    const now = Date.UTC(2026, 10, 27);
    const next = taskIdSeries(now);
    const ids = Array.from({ length: 40_000 }, () => next());
    expect(new Set(ids).size).toBe(40_000);
    expect([...ids].sort()).toEqual(ids);
    for (const id of [ids[0]!, ids[39_999]!]) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(ids[0]!.slice(0, 10)).toBe(newTaskId(now).slice(0, 10));
    expect(ids[39_999]!.slice(0, 20)).toBe(ids[0]!.slice(0, 20));
    expect(ids[1]!.slice(20)).toBe("000001");
  });

  test("two series started in the same millisecond do not share ids (their random parts differ)", () => {
    const now = Date.UTC(2026, 10, 27);
    const a = taskIdSeries(now);
    const b = taskIdSeries(now);
    expect(a()).not.toBe(b());
    let draws = 0;
    const fixed = (length: number) => (draws++, new Uint8Array(length).fill(0xff));
    expect(taskIdSeries(now, fixed)().slice(10, 20)).toBe("ZZZZZZZZZZ");
    expect(draws).toBe(1);
  });
});
