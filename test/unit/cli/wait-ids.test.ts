/**
 * `tqd wait -` reads the ids `tqd enqueue --lines` printed, or a file a person or another tool
 * wrote: blank lines, Windows line ends and a byte-order mark must not count as ids.
 */
import { describe, expect, it } from "vitest";
import { parseIdLines } from "../../../cmd/admin/wait-many.ts";

describe("parseIdLines", () => {
  it("reads one id a line, skipping blank lines and the spaces around an id", () => {
    expect(parseIdLines("t-1\n\n  order:42@eu  \n\tjob.7_x-9\n")).toEqual({ ok: true, ids: ["t-1", "order:42@eu", "job.7_x-9"] });
  });

  it("takes Windows line ends and a byte-order mark", () => {
    expect(parseIdLines("\uFEFFt-1\r\nt-2\r\n\r\n")).toEqual({ ok: true, ids: ["t-1", "t-2"] });
  });

  it("reads nothing from empty input", () => {
    expect(parseIdLines("")).toEqual({ ok: true, ids: [] });
    expect(parseIdLines("\n \n")).toEqual({ ok: true, ids: [] });
  });

  it("names the first line that is no task id, by its number", () => {
    const read = parseIdLines('t-1\n\n{"id":"t-2"}\nbad id\n');
    expect(read).toEqual({ ok: false, message: 'line 3 of stdin is not a task id: "{\\"id\\":\\"t-2\\"}"' });
  });

  it("shortens a long bad line in the message", () => {
    const read = parseIdLines(`${"x".repeat(300)}\n`);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.message).toBe(`line 1 of stdin is not a task id: "${"x".repeat(80)}"`);
  });
});
