import { describe, expect, test } from "vitest";
import { GroupCommitter, PACE_MS, PACED_MIN_OPS, STAGED_FLUSH_MS } from "../../../lib/store/group-commit.ts";

/** A committer that records each transaction's ops. */
function recording() {
  const transactions: string[][] = [];
  const committer = new GroupCommitter<string>({ writeBatch: (ops) => void transactions.push([...ops]), onStagedFailure: () => undefined });
  return { committer, transactions };
}

const turns = (n: number) => new Promise<void>((resolve) => (n === 0 ? resolve() : setImmediate(() => void turns(n - 1).then(resolve))));

describe("group commit", () => {
  test("writes submitted in the same turns share one transaction", async () => {
    const { committer, transactions } = recording();
    await Promise.all([committer.commit(["a"]), committer.commit(["b", "c"])]);
    expect(transactions).toEqual([["a", "b", "c"]]);
  });

  test("staged writes ride along with the next awaited commit, in submission order", async () => {
    const { committer, transactions } = recording();
    committer.stage(["dispatch-1"], true);
    await turns(4);
    expect(transactions).toEqual([]);
    await committer.commit(["settle-1"]);
    expect(transactions).toEqual([["dispatch-1", "settle-1"]]);
    await new Promise((resolve) => setTimeout(resolve, STAGED_FLUSH_MS * 2));
    expect(transactions).toHaveLength(1);
  });

  test("staged writes with no commit to ride along go out on their own within STAGED_FLUSH_MS", async () => {
    const { committer, transactions } = recording();
    const started = performance.now();
    committer.stage(["dispatch-1"], true);
    committer.stage(["dispatch-2"], true);
    const deadline = started + 5_000;
    while (transactions.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(transactions).toEqual([["dispatch-1", "dispatch-2"]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(STAGED_FLUSH_MS - 2);
  });

  test("other staged writes go out in the next group commit, without waiting for one to ride along", async () => {
    const { committer, transactions } = recording();
    committer.stage(["dispatch-1"], true);
    committer.stage(["give-back-1"]);
    await turns(3);
    expect(transactions).toEqual([["dispatch-1", "give-back-1"]]);
  });

  test("under load, patient commits wait until PACE_MS after the last commit, so they share one", async () => {
    const { committer, transactions } = recording();
    const big = Array.from({ length: PACED_MIN_OPS }, (_, i) => `settle-${i}`);
    await committer.commit(big, true);
    const lastEnd = performance.now();
    const first = committer.commit(["ack-1"], true);
    await turns(3);
    const second = committer.commit(["ack-2"], true);
    await Promise.all([first, second]);
    expect(performance.now() - lastEnd).toBeGreaterThanOrEqual(PACE_MS - 0.5);
    expect(transactions).toEqual([big, ["ack-1", "ack-2"]]);
  });

  test("a caller that waits for its answer ends the pause; after a small commit nothing is paced", async () => {
    const { committer, transactions } = recording();
    const big = Array.from({ length: PACED_MIN_OPS }, (_, i) => `settle-${i}`);
    await committer.commit(big, true);
    const patient = committer.commit(["ack-1"], true);
    await turns(1);
    const enqueue = committer.commit(["enqueue-1"]);
    await turns(3);
    expect(transactions).toEqual([big, ["ack-1", "enqueue-1"]]);
    await Promise.all([patient, enqueue]);
    // The last commit held 2 operations: the next patient one goes out in the usual two turns.
    const small = committer.commit(["ack-2"], true);
    await turns(3);
    expect(transactions.at(-1)).toEqual(["ack-2"]);
    await small;
  });

  test("close writes staged ops at once", () => {
    const { committer, transactions } = recording();
    committer.stage(["dispatch-1"], true);
    committer.close();
    expect(transactions).toEqual([["dispatch-1"]]);
  });
});
