/**
 * plainEnqueueResponseOf reads the usual enqueue answer by hand: whatever it accepts must be what
 * enqueueResponseSchema gives for it, and it must accept the answers the server sends.
 */
import { describe, expect, test } from "vitest";
import {
  enqueueBatchResponseSchema,
  enqueueResponseSchema,
  plainEnqueueBatchResponseOf,
  plainEnqueueResponseOf,
  TASK_STATES,
} from "../../../lib/protocol/index.ts";
import { seededRandom } from "../../support/seeded-random.ts";

const ANSWER = { id: "01KB000000000000000000000A", queue: "q", type: "t", state: "pending", created: true };

/** A check that a hand check accepts only what its schema accepts, with the same data. */
function agreement(plainOf: (value: unknown) => unknown, schema: { safeParse(value: unknown): { success: boolean; data?: unknown } }) {
  return (value: unknown): boolean => {
    const plain = plainOf(value);
    if (plain === undefined) return false;
    const parsed = schema.safeParse(value);
    expect(parsed.success, JSON.stringify(value)).toBe(true);
    expect(plain, JSON.stringify(value)).toEqual(parsed.data);
    return true;
  };
}

const agrees = agreement(plainEnqueueResponseOf, enqueueResponseSchema);
/** The batch's hand check, held to enqueueBatchResponseSchema the same way. */
const batchAgrees = agreement(plainEnqueueBatchResponseOf, enqueueBatchResponseSchema);

describe("plainEnqueueResponseOf", () => {
  test("takes the answers the server sends", () => {
    for (const state of TASK_STATES) expect(agrees({ ...ANSWER, state })).toBe(true);
    expect(agrees({ ...ANSWER, created: false })).toBe(true);
    expect(agrees({ ...ANSWER, routedTo: "q-canary" })).toBe(true);
    expect(agrees({ ...ANSWER, warning: "no worker has polled q in the last hour" })).toBe(true);
  });

  test("leaves everything else to the schema", () => {
    const others: unknown[] = [
      null,
      [],
      "x",
      { ...ANSWER, state: "unknown" },
      { ...ANSWER, created: "true" },
      { ...ANSWER, id: 5 },
      { ...ANSWER, queue: null },
      { ...ANSWER, type: undefined },
      { ...ANSWER, routedTo: 1 },
      { ...ANSWER, warning: null },
      { ...ANSWER, extra: 1 },
      { id: "a", queue: "q", type: "t", state: "pending" },
    ];
    for (const value of others) expect(agrees(value), JSON.stringify(value)).toBe(false);
  });

  test("random answers: accepted ones agree with the schema", () => {
    const random = seededRandom(23);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const values: unknown[] = ["", "x", 0, true, false, null, undefined, [], {}, "pending", "completed", "nope"];
    const keys = ["id", "queue", "type", "state", "created", "routedTo", "warning", "extra"];
    let accepted = 0;
    for (let round = 0; round < 2_000; round++) {
      const value: Record<string, unknown> = { ...ANSWER };
      for (let k = Math.floor(random() * 3); k > 0; k--) value[pick(keys)] = pick(values);
      if (random() < 0.1) delete value[pick(keys)];
      if (agrees(value)) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("plainEnqueueBatchResponseOf", () => {
  test("takes the answers the server sends, the warning once beside the tasks", () => {
    expect(batchAgrees({ tasks: [ANSWER, { ...ANSWER, created: false, state: "completed" }] })).toBe(true);
    expect(batchAgrees({ tasks: [ANSWER], warning: "no worker has polled queue \"q\" in the last hour" })).toBe(true);
    expect(batchAgrees({ tasks: [] })).toBe(true);
  });

  test("leaves everything else to the schema", () => {
    const others: unknown[] = [
      null,
      [],
      { tasks: "x" },
      { tasks: [ANSWER], warning: 1 },
      { tasks: [ANSWER], extra: true },
      { tasks: [ANSWER, { ...ANSWER, state: "unknown" }] },
      { tasks: [{ ...ANSWER, extra: 1 }] },
      { warning: "w" },
    ];
    for (const value of others) expect(batchAgrees(value), JSON.stringify(value)).toBe(false);
  });
});
