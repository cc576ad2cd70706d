import { describe, expect, test } from "vitest";
import type { StoreOp } from "../../../lib/store/index.ts";
import { supersededDispatches } from "../../../lib/store/superseded-ops.ts";
import { aTaskRecord } from "../../support/task-builders.ts";

const dispatch = (id: string): StoreOp => ({ op: "tasks.markDispatched", id, seq: 1, attempt: 1, leaseToken: "L", leaseDeadline: 2, worker: "w", startedAt: 1 });
const save = (id: string): StoreOp => ({ op: "tasks.saveState", task: aTaskRecord({ id, state: "completed" }) });

describe("superseded dispatch records", () => {
  test("a dispatch record is skipped when a later op of the transaction saves the same task", () => {
    expect(supersededDispatches([dispatch("a"), dispatch("b"), save("a")])).toEqual(new Set([0]));
  });

  test("a save before the dispatch, or of another task, supersedes nothing", () => {
    expect(supersededDispatches([save("a"), dispatch("a"), dispatch("b"), save("c")])).toBeUndefined();
    expect(supersededDispatches([])).toBeUndefined();
  });

  test("of two dispatches of one task, each followed by its save, both are skipped; one after the last save is kept", () => {
    expect(supersededDispatches([dispatch("a"), save("a"), dispatch("a"), save("a"), dispatch("a")])).toEqual(new Set([0, 2]));
  });
});
