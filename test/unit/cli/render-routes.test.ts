import { describe, expect, it } from "vitest";
import {
  renderRouteChangeHuman,
  renderRouteHistoryHuman,
  renderRouteHistoryPlain,
  renderRoutesHuman,
  renderRoutesPlain,
  renderRouteTestHuman,
  renderRouteTestPlain,
} from "../../../cmd/admin/render-routes.ts";
import type { RouteHistoryResponse, RouteTable } from "../../../lib/protocol/index.ts";

const TABLE: RouteTable = {
  queue: "images",
  version: 4,
  rules: [
    { id: "r2", to: "images-acme", headers: { tenant: "acme" }, percent: 100, fallbackAfterMs: 30_000, stats: { routed: 12, started: 11, fellBack: 1, stranded: 0 } },
    { id: "r4", to: "images-canary", type: "resize*", headers: { tier: "gold plus", expr: "a=b" }, percent: 5, by: "tenant", fallbackAfterMs: 0 },
  ],
};

describe("renderRoutesPlain", () => {
  it("prints the version, then one rule line per rule in order, - for none", () => {
    expect(renderRoutesPlain(TABLE)).toBe(
      "version 4\n" +
        "rule r2 images-acme - tenant=acme 100 - 30s 12 11 1 0\n" +
        'rule r4 images-canary resize* tier="gold plus",expr="a=b" 5 tenant 0s - - - -\n',
    );
  });

  it("prints only the version for a queue without rules", () => {
    expect(renderRoutesPlain({ queue: "q", version: 0, rules: [] })).toBe("version 0\n");
  });
});

describe("renderRoutesHuman", () => {
  it("prints a sentence and a table of the rules with their stats", () => {
    const lines = renderRoutesHuman(TABLE).split("\n");
    expect(lines[0]).toBe("images: 2 routing rules (version 4), tried in order; the first that takes a task routes it");
    expect(lines[2]).toMatch(/^#\s+RULE\s+MATCH\s+SHARE\s+TO\s+FALLBACK\s+ROUTED\s+STARTED\s+FELL BACK\s+STRANDED$/);
    expect(lines[3]).toMatch(/^1\s+r2\s+tenant=acme\s+100%\s+images-acme\s+30s\s+12\s+11\s+1\s+0$/);
    expect(lines[4]).toMatch(/^2\s+r4\s+type resize\*, tier=gold plus, expr=a=b\s+5% by tenant\s+images-canary\s+never\s+-\s+-\s+-\s+-$/);
  });

  it("says every task stays when there are no rules", () => {
    expect(renderRoutesHuman({ queue: "q", version: 2, rules: [] })).toBe("q: no routing rules (version 2); every task stays on q\n");
  });
});

describe("renderRouteTest", () => {
  it("prints QUEUE RULE FALLBACK in pipes", () => {
    expect(renderRouteTestPlain({ queue: "images-canary", ruleId: "r4", fallbackAfterMs: 30_000 })).toBe("images-canary r4 30s\n");
    expect(renderRouteTestPlain({ queue: "images" })).toBe("images - -\n");
  });

  it("says where the task would go, by which rule, and when it would fall back", () => {
    expect(renderRouteTestHuman("images", "resize", { queue: "images-canary", ruleId: "r4", fallbackAfterMs: 60_000 })).toBe(
      "a resize task enqueued to images would go to images-canary by rule r4 (back to images if not started within 1m)\n",
    );
    expect(renderRouteTestHuman("images", "resize", { queue: "images-canary", ruleId: "r4", fallbackAfterMs: 0 })).toContain("it never falls back");
    expect(renderRouteTestHuman("images", "crop", { queue: "images" })).toBe("a crop task enqueued to images would stay on images (no rule takes it)\n");
  });
});

describe("renderRouteHistory", () => {
  const HISTORY: RouteHistoryResponse = {
    queue: "images",
    versions: [
      { version: 1, createdAt: "2026-10-01T12:00:00.000Z", change: "add r1: type resize* 5% -> images-canary", rules: [{ id: "r1", to: "images-canary", percent: 5, fallbackAfterMs: 30_000 }] },
      { version: 2, createdAt: "2026-10-01T12:05:00.000Z", change: "remove r1", rules: [] },
    ],
  };

  it("prints VERSION CREATED_AT RULES CHANGE per version in pipes", () => {
    expect(renderRouteHistoryPlain(HISTORY)).toBe(
      "1 2026-10-01T12:00:00.000Z 1 add r1: type resize* 5% -> images-canary\n2 2026-10-01T12:05:00.000Z 0 remove r1\n",
    );
  });

  it("prints a table on a terminal, and a sentence when nothing changed yet", () => {
    const lines = renderRouteHistoryHuman(HISTORY).split("\n");
    expect(lines[2]).toMatch(/^VERSION\s+CREATED\s+RULES\s+CHANGE$/);
    expect(lines[4]).toMatch(/^\s+2\s+2026-10-01T12:05:00.000Z\s+0\s+remove r1$/);
    expect(renderRouteHistoryHuman({ queue: "q", versions: [] })).toBe("q: no routing changes yet (version 0: no rules)\n");
  });
});

describe("renderRouteChangeHuman", () => {
  it("names the change and the new version", () => {
    expect(renderRouteChangeHuman("removed rule r2", TABLE)).toBe("removed rule r2; images is now at routing version 4 with 2 rules\n");
  });
});
