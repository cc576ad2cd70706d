/** The pure parts of `tqd enqueue --lines`: reading the lines, cutting batches, pooling random bytes. */
import { describe, expect, test } from "vitest";
import { batchesOf, LINE_BATCH_BYTES, LINE_BATCH_TASKS, parseInputLines } from "../../../cmd/admin/enqueue-lines.ts";
import { newTaskId, pooledRandomBytes } from "../../../cmd/admin/task-id.ts";
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

describe("pooledRandomBytes", () => {
  test("hands out consecutive slices of what the source gave, drawing again when it runs out", () => {
    let draws = 0;
    const source = (length: number) => {
      draws++;
      return Uint8Array.from({ length }, (_, i) => (i + draws * 7) % 256);
    };
    const pooled = pooledRandomBytes(source);
    const first = pooled(10);
    const second = pooled(10);
    expect(draws).toBe(1);
    expect([...first]).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(second[0]).toBe(17);
    for (let i = 0; i < 65_536 / 10; i++) pooled(10);
    expect(draws).toBe(2);
  });

  test("ids minted from the pool are distinct and of the usual form", () => {
    const pooled = pooledRandomBytes();
    const ids = new Set(Array.from({ length: 20_000 }, () => newTaskId(Date.UTC(2026, 10, 27), pooled)));
    expect(ids.size).toBe(20_000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
