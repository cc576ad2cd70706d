/**
 * The server parses enqueue bodies with enqueueBodySchema, which accepts a plain task (only
 * `type` and `input`) by a hand check of the contract's rules: it must give exactly what the
 * full contract (enqueueRequestSchema) gives, data and errors alike.
 */
import { describe, expect, test } from "vitest";
import { enqueueBatchBodySchema, enqueueBatchRequestSchema, enqueueBodySchema, enqueueRequestSchema, LIMITS_BATCH_TASKS } from "../../../lib/protocol/index.ts";
import { seededRandom } from "../../support/seeded-random.ts";

type Parse = { safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: readonly { code: string; path: PropertyKey[]; message: string }[] } } };

/** The outcome as a caller sees it: the data, or each issue's code, path and message. */
function outcome(schema: Parse, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  return parsed.success ? { data: parsed.data } : { issues: parsed.error!.issues.map(({ code, path, message }) => ({ code, path, message })) };
}

const TYPES: unknown[] = ["email.send", "bad type!", "tqd.reserved", "", 5, null, undefined, "x".repeat(256)];
const INPUTS: unknown[] = [undefined, null, 0, "text", [1, 2], { nested: { a: 1 } }];
const EXTRAS: Record<string, unknown>[] = [
  {},
  { priority: 3 },
  { priority: 9 },
  { prority: 3 },
  { id: "a/b" },
  { delay: "1s", runAt: "2030-01-01T00:00:00Z" },
  { delay: "soon" },
  { input: 1, headers: { user: "u" } },
  // What `tqd enqueue` sends: an id of its own, and ifExists "return".
  { id: "01KB000000000000000000000A", ifExists: "return" },
  { id: "job-1" },
  { ifExists: "new" },
  { id: "" },
  { id: 5 },
  { id: undefined },
  { id: "x".repeat(256) },
  { id: "job-1", ifExists: "maybe" },
  { id: "job-1", ifExists: undefined },
  { id: "job-1", ifExists: "reject", priority: 2 },
];

describe("enqueueBodySchema", () => {
  test("every mix of type, input and other fields: the same data or errors as the full contract", () => {
    let plain = 0;
    for (const type of TYPES) {
      for (const input of INPUTS) {
        for (const extra of EXTRAS) {
          const body: Record<string, unknown> = { ...(type === undefined ? {} : { type }), ...(input === undefined ? {} : { input }), ...extra };
          if (Object.keys(extra).length === 0) plain++;
          expect(outcome(enqueueBodySchema, body), JSON.stringify(body)).toEqual(outcome(enqueueRequestSchema, body));
        }
      }
    }
    expect(plain).toBe(TYPES.length * INPUTS.length);
  });

  test("bodies that are not objects, and an explicit undefined input", () => {
    for (const body of [null, [], "text", 3, true, [{ type: "t" }], { type: "t", input: undefined }, Object.create(null)]) {
      expect(outcome(enqueueBodySchema, body)).toEqual(outcome(enqueueRequestSchema, body));
    }
  });

  test("batches of random bodies: the same data or errors, with each item's index in the path", () => {
    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    for (let round = 0; round < 200; round++) {
      const tasks = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const body: Record<string, unknown> = {};
        if (random() < 0.9) body.type = pick(TYPES);
        if (random() < 0.5) body.input = pick(INPUTS);
        if (random() < 0.3) Object.assign(body, pick(EXTRAS));
        return body;
      });
      const batch = random() < 0.05 ? { tasks, extra: 1 } : { tasks };
      expect(outcome(enqueueBatchBodySchema, batch), JSON.stringify(batch)).toEqual(outcome(enqueueBatchRequestSchema, batch));
    }
    const failed = enqueueBatchBodySchema.safeParse({ tasks: [{ type: "ok" }, { type: "bad type!" }] });
    expect(failed.error?.issues[0]?.path).toEqual(["tasks", 1, "type"]);
  });

  test("batches at and past the size limits, and batch bodies that are not plain", () => {
    const plain = (n: number) => ({ tasks: Array.from({ length: n }, (_, i) => ({ type: "email.send", input: { i } })) });
    for (const batch of [plain(1), plain(LIMITS_BATCH_TASKS), plain(LIMITS_BATCH_TASKS + 1), plain(0), { tasks: [] }, { tasks: {} }, { tasks: "x" }, {}, null, [], { tasks: [{ type: "t" }], more: 1 }, { tasks: [{ type: "t" }, , { type: "u" }] }]) {
      expect(outcome(enqueueBatchBodySchema, batch)).toEqual(outcome(enqueueBatchRequestSchema, batch));
    }
    // A plain batch is accepted as it was parsed: no copy per task.
    const batch = plain(3);
    expect((enqueueBatchBodySchema.parse(batch) as { tasks: unknown[] }).tasks[1]).toBe(batch.tasks[1]);
  });
});
