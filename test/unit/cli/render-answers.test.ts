/** The one-line answers of `tqd cancel`, `tqd complete` and `tqd fail`. */
import { describe, expect, it } from "vitest";
import { renderCancel } from "../../../cmd/admin/cancel.ts";
import { renderSettle } from "../../../cmd/admin/complete.ts";

describe("renderCancel", () => {
  it("prints canceled or cancel_requested in pipes", () => {
    expect(renderCancel({ id: "t1", state: "canceled", cancelRequested: false }, false)).toBe("canceled\n");
    expect(renderCancel({ id: "t1", state: "running", cancelRequested: true }, false)).toBe("cancel_requested\n");
  });

  it("prints a sentence on a TTY", () => {
    expect(renderCancel({ id: "t1", state: "canceled", cancelRequested: false }, true)).toBe("task t1 canceled: it will not run\n");
    expect(renderCancel({ id: "t1", state: "running", cancelRequested: true }, true)).toMatch(/^task t1 is running: cancel requested/);
  });
});

describe("renderSettle", () => {
  it("prints the task's new state in pipes and a sentence on a TTY", () => {
    expect(renderSettle({ id: "t1", state: "completed" }, false)).toBe("completed\n");
    expect(renderSettle({ id: "t1", state: "scheduled" }, false)).toBe("scheduled\n");
    expect(renderSettle({ id: "t1", state: "scheduled" }, true)).toMatch(/will be retried/);
    expect(renderSettle({ id: "t1", state: "failed" }, true)).toBe("task t1 failed\n");
  });
});
