import { describe, expect, it } from "vitest";
import { renderExplain, renderFairness, renderLimit, renderPause } from "../../../cmd/admin/render-queue-controls.ts";

describe("renderLimit", () => {
  it("prints the limit in force, or no limit", () => {
    expect(renderLimit({ queue: "emails", limit: { ratePerSecond: 50, burst: 50 } }, false)).toBe("50/s burst 50\n");
    expect(renderLimit({ queue: "emails", limit: { ratePerSecond: 1 / 6, burst: 1 } }, false)).toBe("10/m burst 1\n");
    expect(renderLimit({ queue: "emails", limit: null }, false)).toBe("no limit\n");
  });

  it("says it in a sentence on a terminal", () => {
    expect(renderLimit({ queue: "emails", limit: { ratePerSecond: 50, burst: 100 } }, true)).toBe("queue emails: at most 50/s, bursts of up to 100\n");
    expect(renderLimit({ queue: "emails", limit: null }, true)).toMatch(/^queue emails: no rate limit/);
  });
});

describe("renderPause", () => {
  it("prints the queue's new state", () => {
    expect(renderPause({ queue: "q", paused: true }, false)).toBe("paused\n");
    expect(renderPause({ queue: "q", paused: false }, false)).toBe("resumed\n");
    expect(renderPause({ queue: "q", paused: true }, true)).toBe("queue q paused: it accepts tasks and dispatches none until 'tqd resume q'\n");
  });
});

describe("renderFairness", () => {
  it("prints KEY WEIGHT RATE PENDING, - without a per-key rate", () => {
    expect(renderFairness("q", { key: "acme", weight: 3, ratePerSecond: 5, pending: 7 }, false)).toBe("acme 3 5/s 7\n");
    expect(renderFairness("q", { key: "tiny co", weight: 1, pending: 0 }, false)).toBe('"tiny co" 1 - 0\n');
    expect(renderFairness("q", { key: "acme", weight: 3, pending: 7 }, true)).toBe("fairness key acme of q: weight 3, no rate limit, 7 pending\n");
  });
});

describe("renderExplain", () => {
  it("prints the server's message on one line, with the end of the wait when known", () => {
    expect(renderExplain({ id: "t1", state: "pending", reason: "paused", message: "queue emails is paused" })).toBe("queue emails is paused\n");
    expect(
      renderExplain({ id: "t1", state: "scheduled", reason: "delay", message: "delayed", until: "2030-01-01T12:00:00.000Z" }),
    ).toBe("delayed (until 2030-01-01T12:00:00.000Z)\n");
    expect(renderExplain({ id: "t1", state: "pending", reason: "ready", message: "two\nlines" })).toBe('"two\\nlines"\n');
  });
});
