import { describe, expect, it } from "vitest";
import { renderQueuesHuman, renderQueuesPlain } from "../../../cmd/admin/render-queues.ts";

const QUEUES = [
  { name: "hello", pending: 3, running: 1, completed: 120, failed: 0, pollersWaiting: 2 },
  { name: "ops/host:web-1", pending: 0, running: 0, completed: 7, failed: 1, pollersWaiting: 0 },
];

describe("renderQueuesPlain", () => {
  it("prints one space-separated line per queue, without a header", () => {
    expect(renderQueuesPlain(QUEUES)).toBe("hello 3 1 120 0 2\nops/host:web-1 0 0 7 1 0\n");
  });

  it("prints nothing when there are no queues", () => {
    expect(renderQueuesPlain([])).toBe("");
  });
});

describe("renderQueuesHuman", () => {
  it("prints a header and right-aligned counts", () => {
    expect(renderQueuesHuman(QUEUES)).toBe(
      [
        "QUEUE           PENDING  RUNNING  COMPLETED  FAILED  POLLERS",
        "hello                 3        1        120       0        2",
        "ops/host:web-1        0        0          7       1        0",
        "",
      ].join("\n"),
    );
  });

  it("says so when there are no queues", () => {
    expect(renderQueuesHuman([])).toBe("no queues yet\n");
  });
});
