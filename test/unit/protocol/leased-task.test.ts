/**
 * leasedTaskSchema (what a worker checks each task of a poll answer with) accepts the shape the
 * server sends by a hand check and leaves everything else to the contract: both must give the
 * same data and errors.
 */
import { describe, expect, test } from "vitest";
import * as z from "zod";
import { LEASED_TASK_KEYS, leasedTaskContract, leasedTaskSchema, pollResponseSchema } from "../../../lib/protocol/index.ts";
import { seededRandom } from "../../support/seeded-random.ts";

const contract = leasedTaskContract;

type Parse = { safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: readonly { code: string; path: PropertyKey[]; message: string }[] } } };
/** Data with its own keys listed (toEqual alone would not tell a missing key from an undefined one). */
function outcome(schema: Parse, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { issues: parsed.error!.issues.map(({ code, path, message }) => ({ code, path, message })) };
  const data = parsed.data as Record<string, unknown>;
  return { data, keys: Object.keys(data).sort(), headerKeys: data.headers && typeof data.headers === "object" ? Object.keys(data.headers).sort() : undefined };
}

const SENT = { id: "01KB000000000000000000000A", queue: "q", type: "t", input: { a: [1, 2] }, attempt: 1, priority: 3, leaseToken: "L", leaseDeadline: "2030-01-01T00:00:00.000Z" };
const VARIANTS: Record<string, unknown>[] = [
  {},
  { input: undefined },
  { heartbeatTimeoutMs: 5_000 },
  { heartbeatTimeoutMs: 1.5 },
  { lastHeartbeat: { step: 2 } },
  { lastHeartbeat: null },
  { headers: { user: "u", region: "eu" } },
  { headers: { user: 5 } },
  { headers: [] },
  { headers: JSON.parse('{"__proto__":"x","a":"b"}') as unknown },
  { headers: Object.assign(Object.create(null), { a: "b" }) as unknown },
  { priority: undefined },
  { priority: 2.5 },
  { priority: 2 ** 53 },
  { attempt: -1 },
  { attempt: Number.NaN },
  { attempt: "1" },
  { id: 3 },
  { leaseDeadline: null },
  { extra: "stripped by the contract" },
];

describe("leasedTaskSchema", () => {
  test("the hand check's list of keys is the contract's", () => {
    expect([...LEASED_TASK_KEYS].sort()).toEqual(Object.keys(leasedTaskContract.shape).sort());
  });

  test("the server's shape and each variation of it: the same data or errors as the contract", () => {
    for (const variant of VARIANTS) {
      const task = { ...SENT, ...variant };
      expect(outcome(leasedTaskSchema, task), JSON.stringify(variant)).toEqual(outcome(contract, task));
    }
    for (const missing of Object.keys(SENT)) {
      const task: Record<string, unknown> = { ...SENT };
      delete task[missing];
      expect(outcome(leasedTaskSchema, task), missing).toEqual(outcome(contract, task));
    }
    for (const task of [null, [], "x", 1]) expect(outcome(leasedTaskSchema, task)).toEqual(outcome(contract, task));
  });

  test("random poll answers: the same data or errors, each task's index in the path", () => {
    const random = seededRandom(5);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const answerContract = z.object({ tasks: z.array(contract) });
    for (let round = 0; round < 300; round++) {
      const tasks = Array.from({ length: Math.floor(random() * 4) }, () => ({ ...SENT, ...(random() < 0.5 ? pick(VARIANTS) : {}), ...(random() < 0.3 ? pick(VARIANTS) : {}) }));
      expect(outcome(pollResponseSchema, { tasks }), JSON.stringify(tasks)).toEqual(outcome(answerContract, { tasks }));
    }
    // The answer itself: other keys, no array, holes, not an object.
    for (const answer of [{ tasks: [SENT], extra: 1 }, { tasks: [] }, {}, { tasks: {} }, { tasks: null }, { tasks: [SENT, , SENT] }, null, [], "x"]) {
      expect(outcome(pollResponseSchema, answer), JSON.stringify(answer)).toEqual(outcome(answerContract, answer));
    }
  });
});
