/**
 * settleItemSchema accepts a plain completion by a hand check and leaves everything else to the
 * contract (a union of a completion and a failure): both must give the same data and errors.
 */
import { describe, expect, test } from "vitest";
import * as z from "zod";
import { settleBatchRequestSchema, settleBatchResponseSchema, settleItemContract, settleItemResultContract, settleItemResultSchema, settleItemSchema, TASK_STATES } from "../../../lib/protocol/index.ts";
import { seededRandom } from "../../support/seeded-random.ts";

const contract = settleItemContract;

type Parse = { safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: readonly { code: string; path: PropertyKey[]; message: string }[] } } };
function outcome(schema: Parse, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  return parsed.success ? { data: parsed.data } : { issues: parsed.error!.issues.map(({ code, path, message }) => ({ code, path, message })) };
}

const IDS: unknown[] = ["01KB000000000000000000000A", "a:b@c.d-e_f", "with/slash", "", "x".repeat(255), "x".repeat(256), 7, null];
const TOKENS: unknown[] = ["T", "ABCDEFGHJKMNPQRSTVWXYZ0123", "t".repeat(200), "t".repeat(201), "", 3, null];
const RESULTS: unknown[] = [undefined, null, 0, "ok", { nested: [1, { a: 2 }] }];
const EXTRAS: Record<string, unknown>[] = [{}, { error: { type: "E", message: "m" } }, { error: { type: "" } }, { resutl: 1 }, { __proto__: 1 } as Record<string, unknown>];

describe("settleItemSchema", () => {
  test("every mix of id, token, result and other fields: the same data or errors as the contract", () => {
    for (const id of IDS) {
      for (const token of TOKENS) {
        for (const result of RESULTS) {
          for (const extra of EXTRAS) {
            const item: Record<string, unknown> = { id, leaseToken: token, ...(result === undefined ? {} : { result }), ...extra };
            expect(outcome(settleItemSchema, item), JSON.stringify(item)).toEqual(outcome(contract, item));
          }
        }
      }
    }
  });

  test("items that are not objects, a missing field, a key named __proto__, an explicit undefined result", () => {
    const proto = JSON.parse('{"id":"a","leaseToken":"t","__proto__":{"x":1}}') as unknown;
    for (const item of [null, [], "x", 1, { id: "a" }, { leaseToken: "t" }, proto, { id: "a", leaseToken: "t", result: undefined }, Object.assign(Object.create(null), { id: "a", leaseToken: "t" })]) {
      expect(outcome(settleItemSchema, item)).toEqual(outcome(contract, item));
    }
  });

  test("random batches: the same data or errors, each item's index in the path", () => {
    const random = seededRandom(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const batchContract = z.strictObject({ completions: z.array(contract).min(1).max(1_000) });
    for (let round = 0; round < 300; round++) {
      const completions = Array.from({ length: Math.floor(random() * 4) }, () => ({
        id: pick(IDS),
        leaseToken: pick(TOKENS),
        ...(random() < 0.5 ? { result: pick(RESULTS) } : {}),
        ...(random() < 0.3 ? pick(EXTRAS) : {}),
      }));
      const batch = { completions };
      expect(outcome(settleBatchRequestSchema, batch), JSON.stringify(batch)).toEqual(outcome(batchContract, batch));
    }
  });
});

describe("settleItemResultSchema", () => {
  const resultContract = settleItemResultContract;
  const answers: unknown[] = [
    ...TASK_STATES.map((state) => ({ id: "a", state })),
    { id: "a", state: "done" },
    { id: 1, state: "completed" },
    { id: "a" },
    { id: "a", state: "completed", extra: 1 },
    { id: "a", error: { code: "conflict", message: "m" } },
    { id: "a", error: { code: "nope", message: "m" } },
    { id: "a", state: "completed", error: { code: "conflict", message: "m" } },
    { id: "a", state: undefined },
    null,
    [],
    "x",
    JSON.parse('{"id":"a","state":"completed","__proto__":1}') as unknown,
  ];

  test("each answer: the same data or errors as the contract", () => {
    for (const answer of answers) expect(outcome(settleItemResultSchema, answer), JSON.stringify(answer)).toEqual(outcome(resultContract, answer));
  });

  test("a batch's answer: the same data or errors, each item's index in the path", () => {
    const random = seededRandom(13);
    const batchContract = z.object({ results: z.array(resultContract) });
    for (let round = 0; round < 200; round++) {
      const results = Array.from({ length: Math.floor(random() * 4) }, () => answers[Math.floor(random() * answers.length)]);
      expect(outcome(settleBatchResponseSchema, { results }), JSON.stringify(results)).toEqual(outcome(batchContract, { results }));
    }
    const plain = { id: "a", state: "completed" };
    // The answer itself: other keys, no array, holes, not an object.
    for (const answer of [{ results: [plain], extra: 1 }, { results: [] }, {}, { results: {} }, { results: null }, { results: [plain, , plain] }, null, [], "x"]) {
      expect(outcome(settleBatchResponseSchema, answer), JSON.stringify(answer)).toEqual(outcome(batchContract, answer));
    }
  });
});
