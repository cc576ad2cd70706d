/** The pure parts of `tqd enqueue --lines`: reading the lines, cutting batches, minting ascending ids. */
import { describe, expect, test } from "vitest";
import { batchRanges, inputAt, LINE_BATCH_BYTES, LINE_BATCH_TASKS, parseInputLines, type ParsedLines } from "../../../cmd/admin/enqueue-lines.ts";
import { newTaskId, taskIdSeries } from "../../../cmd/admin/task-id.ts";

const inputs = (parsed: ParsedLines) => (parsed.ok ? parsed.lines.starts.map((_, i) => inputAt(parsed.lines, i)) : parsed.message);

describe("parseInputLines", () => {
  test("one value per non-blank line, in order; CRLF, tabs and a missing last newline are fine", () => {
    expect(inputs(parseInputLines('{"a":1}\n\n  [2,3]  \r\n"text"\n\tnull'))).toEqual([{ a: 1 }, [2, 3], "text", null]);
    expect(inputs(parseInputLines(""))).toEqual([]);
    expect(inputs(parseInputLines('\uFEFF{"a":1}\r\n{"a":2}\r\n'))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(inputs(parseInputLines("\n \r\n\n"))).toEqual([]);
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

describe("batchRanges", () => {
  const linesOf = (texts: string[]) => {
    const parsed = parseInputLines(texts.join("\n"));
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.lines;
  };

  test("at most LINE_BATCH_TASKS lines a batch, covering every line in order", () => {
    const lines = linesOf(Array.from({ length: 2 * LINE_BATCH_TASKS + 1 }, (_, i) => JSON.stringify({ i })));
    expect(batchRanges(lines, 50)).toEqual([
      [0, LINE_BATCH_TASKS],
      [LINE_BATCH_TASKS, 2 * LINE_BATCH_TASKS],
      [2 * LINE_BATCH_TASKS, 2 * LINE_BATCH_TASKS + 1],
    ]);
  });

  test("a batch closes before it would pass the byte budget; a line larger than it goes alone", () => {
    const big = JSON.stringify("x".repeat(LINE_BATCH_BYTES));
    expect(batchRanges(linesOf(["1", "2", big, "4", "5"]), 50)).toEqual([
      [0, 2],
      [2, 3],
      [3, 5],
    ]);
    // Each line counts its text and the overhead: 1 + 99 bytes, two to a budget of 200.
    expect(batchRanges(linesOf(["1", "2", "3", "4", "5"]), 99, 1_000, 200)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });

  test("no lines, no batches", () => {
    expect(batchRanges(linesOf([""]), 50)).toEqual([]);
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
