import { describe, expect, test } from "vitest";
import { createsCycle, globMatches, matchRoute, type RouteRule } from "../../../lib/core/index.ts";

const rule = (extra: Partial<RouteRule>): RouteRule => ({ id: "r1", to: "t", type: undefined, headers: undefined, percent: 100, by: undefined, fallbackAfterMs: 30_000, ...extra });

describe("route rules", () => {
  test("the first matching rule wins; type globs and header equality must all hold", () => {
    const rules = [rule({ id: "a", to: "alice", headers: { user: "alice" } }), rule({ id: "b", to: "reports", type: "report.*" })];
    expect(matchRoute(rules, { id: "1", type: "email", headers: { user: "alice" } })?.id).toBe("a");
    expect(matchRoute(rules, { id: "2", type: "report.pdf", headers: { user: "bob" } })?.id).toBe("b");
    expect(matchRoute(rules, { id: "3", type: "email", headers: undefined })).toBeUndefined();
  });

  test("a percentage takes that share of tasks, deterministically", () => {
    const rules = [rule({ percent: 20 })];
    let routed = 0;
    for (let i = 0; i < 10_000; i++) if (matchRoute(rules, { id: `task-${i}`, type: "t", headers: undefined })) routed++;
    expect(routed / 10_000).toBeGreaterThan(0.185);
    expect(routed / 10_000).toBeLessThan(0.215);
    expect(matchRoute(rules, { id: "task-7", type: "t", headers: undefined })).toEqual(matchRoute(rules, { id: "task-7", type: "t", headers: undefined }));
  });

  test("with `by`, one header value always lands on the same side; without the header the task stays", () => {
    const rules = [rule({ percent: 50, by: "tenant" })];
    for (let t = 0; t < 50; t++) {
      const sides = new Set(Array.from({ length: 20 }, (_, i) => matchRoute(rules, { id: `x${i}`, type: "t", headers: { tenant: `tenant-${t}` } }) !== undefined));
      expect(sides.size).toBe(1);
    }
    expect(matchRoute(rules, { id: "x", type: "t", headers: {} })).toBeUndefined();
  });

  test("globs and cycles", () => {
    expect(globMatches("report.*", "report.pdf")).toBe(true);
    expect(globMatches("report.*", "reports")).toBe(false);
    expect(globMatches("*", "anything/at:all")).toBe(true);
    const graph: Record<string, string[]> = { b: ["c"], c: ["a"] };
    expect(createsCycle("a", "b", (q) => graph[q] ?? [])).toBe(true);
    expect(createsCycle("x", "b", (q) => graph[q] ?? [])).toBe(false);
  });
});
