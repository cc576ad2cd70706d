import { describe, expect, it } from "vitest";
import { renderQueuesHuman, renderQueuesPlain } from "../../../cmd/admin/render-queues.ts";
import type { QueueSummary } from "../../../lib/protocol/index.ts";

const QUEUES: QueueSummary[] = [
  { name: "hello", scheduled: 4, pending: 3, running: 1, completed: 120, failed: 0, canceled: 5, timedOut: 6, pollersWaiting: 2 },
  { name: "ops/host:web-1", scheduled: 0, pending: 0, running: 0, completed: 7, failed: 1, canceled: 0, timedOut: 0, pollersWaiting: 0 },
];

describe("renderQueuesPlain", () => {
  it("keeps the original columns in place and appends scheduled, canceled, timedOut", () => {
    expect(renderQueuesPlain(QUEUES)).toBe("hello 3 1 120 0 2 4 5 6\nops/host:web-1 0 0 7 1 0 0 0 0\n");
  });

  it("prints nothing when there are no queues", () => {
    expect(renderQueuesPlain([])).toBe("");
  });
});

describe("renderQueuesHuman", () => {
  it("prints a header, the states in lifecycle order and right-aligned counts", () => {
    expect(renderQueuesHuman(QUEUES)).toBe(
      [
        "QUEUE           SCHEDULED  PENDING  RUNNING  COMPLETED  FAILED  CANCELED  TIMED_OUT  POLLERS",
        "hello                   4        3        1        120       0         5          6        2",
        "ops/host:web-1          0        0        0          7       1         0          0        0",
        "",
      ].join("\n"),
    );
  });

  it("says so when there are no queues", () => {
    expect(renderQueuesHuman([])).toBe("no queues yet\n");
  });
});
