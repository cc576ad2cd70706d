import { describe, expect, it } from "vitest";
import { renderDeadHuman, renderDeadPlain } from "../../../cmd/admin/render-dead.ts";
import type { DeadTask } from "../../../lib/protocol/index.ts";

const DEAD: DeadTask[] = [
  {
    id: "t1",
    type: "send",
    state: "failed",
    attempt: 3,
    finishedAt: "2024-06-01T12:00:00.000Z",
    error: { type: "SmtpError", message: "550 mailbox unavailable" },
  },
  { id: "t2", type: "send", state: "timed_out", attempt: 1, finishedAt: "2024-06-01T12:05:00.000Z" },
  {
    id: "t3",
    type: "send",
    state: "failed",
    attempt: 10,
    finishedAt: "2024-06-01T12:06:00.000Z",
    error: { type: "Crash", message: "line one\nline two ".padEnd(90, "x") },
  },
];

describe("renderDeadPlain", () => {
  it("prints `id type state attempt finishedAt type: message` per task, one line each", () => {
    const lines = renderDeadPlain(DEAD).split("\n");
    expect(lines[0]).toBe("t1 send failed 3 2024-06-01T12:00:00.000Z SmtpError: 550 mailbox unavailable");
    expect(lines[1]).toBe("t2 send timed_out 1 2024-06-01T12:05:00.000Z -");
    expect(lines[2]).toMatch(/^t3 send failed 10 2024-06-01T12:06:00\.000Z Crash: "line one\\nline two x+"$/);
    expect(lines).toHaveLength(4);
  });

  it("prints nothing for an empty list", () => {
    expect(renderDeadPlain([])).toBe("");
  });
});

describe("renderDeadHuman", () => {
  it("prints a table with a header and cuts long errors", () => {
    const lines = renderDeadHuman("emails", DEAD).split("\n");
    expect(lines[0]).toBe("ID  TYPE  STATE      ATTEMPT  FINISHED                  ERROR");
    expect(lines[1]).toBe("t1  send  failed           3  2024-06-01T12:00:00.000Z  SmtpError: 550 mailbox unavailable");
    expect(lines[2]).toBe("t2  send  timed_out        1  2024-06-01T12:05:00.000Z  -");
    expect(lines[3]?.endsWith("…")).toBe(true);
    expect(lines[3]?.split("  ").at(-1)).toHaveLength(60);
  });

  it("says so when the queue has no dead tasks", () => {
    expect(renderDeadHuman("emails", [])).toBe("no dead tasks in emails\n");
  });
});
