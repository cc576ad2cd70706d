import { describe, expect, it } from "vitest";
import { formatAge, renderDescribeHuman, renderDescribePlain } from "../../../cmd/admin/render-describe.ts";
import type { DescribeResponse } from "../../../lib/protocol/index.ts";

const NOW = Date.parse("2030-01-01T12:00:00.000Z");

function aQueue(fields: Partial<DescribeResponse> = {}): DescribeResponse {
  return {
    name: "emails",
    paused: false,
    counts: { scheduled: 1, pending: 12, running: 3, completed: 140, failed: 2, canceled: 0, timedOut: 1 },
    backlog: { pending: 12, oldestPendingAgeMs: 5_234, inStore: 0 },
    lastMinute: { added: 40, dispatched: 38 },
    rateLimit: { effective: { ratePerSecond: 50, burst: 50 }, source: "admin", admin: { ratePerSecond: 50, burst: 50 } },
    pollers: [
      { identity: "web-1:4242", host: "web-1", types: ["send", "bounce"], freeSlots: 10, lastSeen: "2030-01-01T12:00:00.000Z", waiting: true },
      { identity: "night shift", types: ["send"], freeSlots: 0, lastSeen: "2030-01-01T11:59:57.000Z", waiting: false, declaredRatePerSecond: 0.5 },
    ],
    pollerTypesDiffer: true,
    typesWithoutPoller: ["resize"],
    fairness: [
      { key: "acme", weight: 3, ratePerSecond: 5, pending: 10 },
      { key: "tiny co", weight: 1, pending: 2 },
    ],
    ...fields,
  };
}

const EMPTY: DescribeResponse = {
  name: "fresh",
  paused: false,
  counts: { scheduled: 0, pending: 0, running: 0, completed: 0, failed: 0, canceled: 0, timedOut: 0 },
  backlog: { pending: 0 },
  lastMinute: { added: 0, dispatched: 0 },
  rateLimit: { effective: null, source: "none", admin: null },
  pollers: [],
  pollerTypesDiffer: false,
  typesWithoutPoller: [],
  fairness: [],
};

describe("renderDescribePlain", () => {
  it("prints every scalar line, then one line per poller, unhandled type and fairness key", () => {
    expect(renderDescribePlain(aQueue())).toBe(
      [
        "queue emails",
        "paused false",
        "scheduled 1",
        "pending 12",
        "running 3",
        "completed 140",
        "failed 2",
        "canceled 0",
        "timedOut 1",
        "backlog 12",
        "oldestPendingAgeMs 5234",
        "backlogInStore 0",
        "addedLastMinute 40",
        "dispatchedLastMinute 38",
        "rateLimit 50/s 50 admin",
        "adminLimit 50/s 50",
        "pollerTypesDiffer true",
        "poller web-1:4242 web-1 10 true 2030-01-01T12:00:00.000Z - send,bounce",
        'poller "night shift" - 0 false 2030-01-01T11:59:57.000Z 30/m send',
        "typeWithoutPoller resize",
        "fairnessKey acme 3 5/s 10",
        'fairnessKey "tiny co" 1 - 2',
        "",
      ].join("\n"),
    );
  });

  it("marks missing values with - so every scalar line is always there", () => {
    const lines = renderDescribePlain(EMPTY).trimEnd().split("\n");
    expect(lines).toHaveLength(17);
    expect(lines).toContain("oldestPendingAgeMs -");
    // A server before deep backlogs waited in the store sends no inStore.
    expect(lines).toContain("backlogInStore 0");
    expect(lines).toContain("rateLimit - - none");
    expect(lines).toContain("adminLimit - -");
  });

  it("names the worker whose declared rate is in force", () => {
    const queue = aQueue({
      rateLimit: { effective: { ratePerSecond: 10, burst: 10 }, source: "poller", declaredBy: "web-2:17", admin: null },
    });
    const lines = renderDescribePlain(queue).split("\n");
    expect(lines).toContain("rateLimit 10/s 10 poller web-2:17");
    expect(lines).toContain("adminLimit - -");
  });
});

describe("renderDescribeHuman", () => {
  it("shows a summary, the pollers with their warnings and the fairness keys", () => {
    expect(renderDescribeHuman(aQueue(), NOW)).toBe(
      [
        "queue:       emails",
        "tasks:       1 scheduled, 12 pending, 3 running, 140 completed, 2 failed, 0 canceled, 1 timed out",
        "backlog:     12 pending, the oldest waiting for 5.2s",
        "last minute: 40 added, 38 dispatched",
        "rate limit:  50/s, bursts of up to 50 (set with tqd limit)",
        "",
        "pollers (2):",
        "  IDENTITY     HOST   TYPES         FREE  LAST SEEN    RATE",
        "  web-1:4242   web-1  send, bounce    10  polling now  -",
        "  night shift  -      send             0  3s ago       30/m",
        "  ! live pollers handle different task types (see TYPES)",
        "  ! pending tasks of types no live poller handles: resize",
        "",
        "fairness keys (2):",
        "  KEY      WEIGHT  RATE  PENDING",
        "  acme          3  5/s        10",
        "  tiny co       1  -           2",
        "",
      ].join("\n"),
    );
  });

  it("says when the queue is paused, empty, unlimited and without pollers", () => {
    const text = renderDescribeHuman({ ...EMPTY, paused: true }, NOW);
    expect(text).toContain("queue:       fresh  PAUSED: accepts tasks, dispatches none (tqd resume fresh)\n");
    expect(text).toContain("backlog:     empty\n");
    expect(text).toContain("rate limit:  none\n");
    expect(text).toContain("pollers: none\n");
    expect(text).not.toContain("fairness keys");
  });

  it("says how much of a deep backlog waits in the store", () => {
    const text = renderDescribeHuman(aQueue({ backlog: { pending: 1_000_000, oldestPendingAgeMs: 5_234, inStore: 980_000 } }), NOW);
    expect(text).toContain("backlog:     1000000 pending (980000 of them waiting in the store), the oldest waiting for 5.2s\n");
    expect(renderDescribePlain(aQueue({ backlog: { pending: 1_000_000, inStore: 980_000 } })).split("\n")).toContain("backlogInStore 980000");
  });

  it("lists tasks without a fairness key under (no key)", () => {
    const text = renderDescribeHuman(aQueue({ fairness: [{ key: "", weight: 1, pending: 4 }] }), NOW);
    expect(text).toContain("  (no key)       1  -           4\n");
    expect(renderDescribePlain(aQueue({ fairness: [{ key: "", weight: 1, pending: 4 }] }))).toContain('\nfairnessKey "" 1 - 4\n');
  });

  it("names the worker that declared the rate in force", () => {
    const queue = aQueue({
      rateLimit: { effective: { ratePerSecond: 10, burst: 10 }, source: "poller", declaredBy: "web-2:17", admin: null },
    });
    expect(renderDescribeHuman(queue, NOW)).toContain("rate limit:  10/s, bursts of up to 10 (declared by worker web-2:17 with --queue-rate)\n");
  });
});

describe("formatAge", () => {
  it.each([
    [850, "850ms"],
    [5_234, "5.2s"],
    [192_000, "3m 12s"],
    [7_500_000, "2h 5m"],
    [97_200_000, "1d 3h"],
    [-20, "0ms"],
  ])("shows %d ms as %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
