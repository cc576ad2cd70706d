import { describe, expect, test } from "vitest";
import { CollectAfterEnds, MIN_ENDED } from "../../../lib/daemon/collect-after-ends.ts";

function setup() {
  let collections = 0;
  const deferred: (() => void)[] = [];
  const collector = new CollectAfterEnds(
    () => collections++,
    (run) => deferred.push(run),
  );
  const runDeferred = () => deferred.splice(0).forEach((run) => run());
  return { collector, collections: () => collections, deferred, runDeferred };
}

describe("collections after ended tasks", () => {
  test("a small daemon never collects; MIN_ENDED ended tasks collect once, after the current work", () => {
    const { collector, collections, deferred, runDeferred } = setup();
    for (let i = 1; i < MIN_ENDED; i++) collector.taskEnded(5_000);
    expect(deferred).toHaveLength(0);
    collector.taskEnded(5_000);
    expect(collections()).toBe(0);
    // Further ends before the deferred run schedule nothing more.
    for (let i = 0; i < 10; i++) collector.taskEnded(5_000);
    expect(deferred).toHaveLength(1);
    runDeferred();
    expect(collections()).toBe(1);
    for (let i = 1; i < MIN_ENDED; i++) collector.taskEnded(5_000);
    runDeferred();
    expect(collections()).toBe(1);
  });

  test("the interval is a quarter of what is still live when that is more", () => {
    const { collector, collections, runDeferred } = setup();
    for (let i = 1; i < 250_000; i++) collector.taskEnded(1_000_000);
    runDeferred();
    expect(collections()).toBe(0);
    collector.taskEnded(1_000_000);
    runDeferred();
    expect(collections()).toBe(1);
  });

  test("without a collector nothing is scheduled", () => {
    const deferred: (() => void)[] = [];
    const collector = new CollectAfterEnds(undefined, (run) => deferred.push(run));
    for (let i = 0; i < 2 * MIN_ENDED; i++) collector.taskEnded(0);
    expect(deferred).toHaveLength(0);
  });
});
