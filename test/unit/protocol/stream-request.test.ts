/**
 * parseStreamRequest takes settle frames of plain completions, poll frames and enqueue frames of
 * plain tasks by a hand check and leaves every other frame to streamRequestSchema: both must give
 * the same data and errors.
 */
import { describe, expect, test } from "vitest";
import { parseStreamRequest, streamRequestSchema } from "../../../lib/protocol/index.ts";
import { seededRandom } from "../../support/seeded-random.ts";

type Result = { success: boolean; data?: unknown; error?: { issues: readonly { code: string; path: PropertyKey[]; message: string }[] } };
function outcome(parsed: Result): unknown {
  return parsed.success ? { data: parsed.data } : { issues: parsed.error!.issues.map(({ code, path, message }) => ({ code, path, message })) };
}
const same = (frame: unknown) => expect(outcome(parseStreamRequest(frame)), JSON.stringify(frame)).toEqual(outcome(streamRequestSchema.safeParse(frame)));

const ITEM = { id: "01KB000000000000000000000A", leaseToken: "ABCDEFGHJKMNPQRSTVWXYZ0123" };
const ITEMS: unknown[] = [ITEM, { ...ITEM, result: { ok: true } }, { ...ITEM, result: null }, { ...ITEM, error: { type: "E", message: "m" } }, { ...ITEM, id: "a/b" }, { ...ITEM, leaseToken: "" }, { ...ITEM, extra: 1 }, null, "x"];
const REFS: unknown[] = [0, 7, -0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, "1", undefined];

describe("parseStreamRequest", () => {
  test("settle frames: every mix of ref, items and keys gives what the schema gives", () => {
    for (const ref of REFS) {
      for (const item of ITEMS) {
        same({ op: "complete", ref, body: { completions: [ITEM, item] } });
        same({ op: "complete", ref, body: { completions: [item] }, extra: 1 });
        same({ op: "complete", ref, body: { completions: [item], other: 1 } });
      }
    }
    same({ op: "complete", ref: 1, body: { completions: [] } });
    same({ op: "complete", ref: 1, body: { completions: Array.from({ length: 1_000 }, () => ITEM) } });
    same({ op: "complete", ref: 1, body: { completions: Array.from({ length: 1_001 }, () => ITEM) } });
    same({ op: "complete", ref: 1, body: { completions: "x" } });
    same({ op: "complete", ref: 1, body: [] });
    same({ op: "complete", ref: 1 });
  });

  test("poll frames: every mix of the body's fields gives what the schema gives", () => {
    const identities: unknown[] = ["w-1", "", "x".repeat(255), "x".repeat(256), 3];
    const typeLists: unknown[] = [["t"], ["a", "b.c:d"], [], ["bad type"], [1], Array.from({ length: 100 }, (_, i) => `t${i}`), Array.from({ length: 101 }, (_, i) => `t${i}`), "t"];
    const maxes: unknown[] = [undefined, 1, 32, 1_000, 0, 1_001, 2.5, "3"];
    const waits: unknown[] = [undefined, 0, 30_000, 60_000, -1, 60_001, 1.5];
    const extras: Record<string, unknown>[] = [{}, { host: "h" }, { host: "" }, { host: undefined }, { queueRate: "5/s" }, { queueRate: "fast" }, { other: 1 }, { yieldTo: ["q@host:h", "q@worker:w"] }, { yieldTo: [] }, { yieldTo: undefined }, { yieldTo: ["bad name"] }, { yieldTo: "q" }, { yieldTo: [1] }, { yieldTo: Array.from({ length: 300 }, (_, i) => `q${i}`) }, { yieldTo: Array.from({ length: 301 }, (_, i) => `q${i}`) }, { host: "h", yieldTo: ["b"] }];
    for (const identity of identities) {
      for (const types of typeLists) {
        for (const max of maxes) {
          for (const waitMs of waits) {
            const body: Record<string, unknown> = { identity, types, ...(max === undefined ? {} : { max }), ...(waitMs === undefined ? {} : { waitMs }) };
            same({ op: "poll", ref: 1, queue: "q", body });
          }
        }
      }
    }
    for (const extra of extras) same({ op: "poll", ref: 1, queue: "q", body: { identity: "w", types: ["t"], max: 4, ...extra } });
    for (const ref of REFS) same({ op: "poll", ref, queue: "q", body: { identity: "w", types: ["t"] } });
    for (const queue of ["q", "", 5, undefined]) same({ op: "poll", ref: 1, queue, body: { identity: "w", types: ["t"] } });
    same({ op: "poll", ref: 1, queue: "q", body: { identity: "w", types: ["t"] }, extra: 1 });
    same({ op: "poll", ref: 1, queue: "q", body: null });
  });

  test("enqueue frames: plain tasks and every other body give what the schema gives", () => {
    const bodies: unknown[] = [
      { type: "t" },
      { type: "t", input: { a: 1 } },
      { type: "t", input: null },
      { type: "t", input: undefined },
      { type: "a.b:c-d_e", input: [1, "x"] },
      { type: "bad type" },
      { type: "" },
      { type: "x".repeat(300) },
      { type: "tqd.workflow" },
      { type: 5 },
      { input: 1 },
      { type: "t", priority: 1 },
      { type: "t", id: "job-1", ifExists: "return" },
      { type: "t", delay: "5s" },
      { type: "t", extra: 1 },
      null,
      [],
      "t",
    ];
    for (const body of bodies) {
      for (const ref of REFS) same({ op: "enqueue", ref, queue: "q", body });
      for (const queue of ["q", "", 5, undefined]) same({ op: "enqueue", ref: 1, queue, body });
      same({ op: "enqueue", ref: 1, queue: "q", body, extra: 1 });
      same({ op: "enqueueBatch", ref: 1, queue: "q", body: { tasks: [{ type: "t" }, body] } });
    }
    same({ op: "enqueue", ref: 1, queue: "q" });
    same({ op: "enqueueBatch", ref: 1, queue: "q", body: { tasks: [] } });
  });

  test("cancel and malformed frames go to the schema as before", () => {
    for (const frame of [
      { op: "poll", ref: 1, queue: "q", body: { identity: "w", types: ["t"], max: 2, waitMs: 0 } },
      { op: "poll", ref: 1, queue: "q", body: { identity: "w", types: [] } },
      { op: "cancel", ref: 3 },
      { op: "nope", ref: 1 },
      null,
      [],
      "complete",
    ]) {
      same(frame);
    }
  });

  test("random settle frames", () => {
    const random = seededRandom(17);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    for (let round = 0; round < 300; round++) {
      const completions = Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.7 ? ITEM : pick(ITEMS)));
      same({ op: "complete", ref: random() < 0.9 ? round : pick(REFS), body: { completions } });
    }
  });
});
