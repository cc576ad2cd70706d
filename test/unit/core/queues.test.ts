/** Throttling, fairness, pause and poller liveness in the pure core, on explicit time. */
import { describe, expect, test } from "vitest";
import { DispatchCore, explainTask, recordOfLiveTask, type LiveTask, type NewTask } from "../../../lib/core/index.ts";
import { TokenBucket } from "../../../lib/core/token-bucket.ts";
import { seededRandom } from "../../support/seeded-random.ts";
import { anOptions } from "../../support/task-builders.ts";

const T0 = 1_000_000;

function setup() {
  let tokens = 0;
  let ids = 0;
  const core = new DispatchCore({ newLeaseToken: () => `lease-${++tokens}` });
  const add = (extra: Partial<NewTask> = {}, now = T0): LiveTask => {
    const task = core.createTask({ id: `t${++ids}`, queue: "q", type: "t", inputJson: undefined, priority: 3, options: anOptions(), ...extra }, now);
    core.addTasks([task], now);
    return task;
  };
  const poll = (now: number, max = 1_000, extra: { identity?: string; types?: string[]; declaredRate?: number } = {}) =>
    core.takeForPoll({ queue: "q", types: extra.types ?? ["t"], max, identity: extra.identity ?? "w", waitMs: 30_000, declaredRate: extra.declaredRate }, now);
  return { core, add, poll };
}

describe("token bucket", () => {
  test("over any window of T seconds at most rate x T + burst tokens are taken", () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 20 }, T0);
    let taken = 0;
    for (let ms = 0; ms <= 10_000; ms += 7) {
      const now = T0 + ms;
      const available = bucket.available(now);
      bucket.take(available, now);
      taken += available;
    }
    expect(taken).toBeLessThanOrEqual(20 * 10 + 20);
    expect(taken).toBeGreaterThanOrEqual(Math.floor(20 * 10 * 0.98) + 20);
  });

  test("reports when the next token accrues", () => {
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 1 }, T0);
    bucket.take(1, T0);
    expect(bucket.available(T0)).toBe(0);
    expect(bucket.nextTokenAt(T0)).toBe(T0 + 250);
    expect(bucket.available(T0 + 250)).toBe(1);
  });
});

describe("throttling", () => {
  test("an admin limit caps dispatch; spikes wait in the backlog and a parked poll wakes at the next token", () => {
    const { core, add, poll } = setup();
    for (let i = 0; i < 100; i++) add();
    core.setLimit("q", { ratePerSecond: 10, burst: 5 }, T0);
    expect(poll(T0)).toHaveLength(5);
    expect(poll(T0 + 50)).toHaveLength(0);
    core.park({ queue: "q", types: ["t"], max: 10, identity: "p", waitMs: 30_000 }, T0 + 50);
    expect(core.nextDeadline()).toBe(T0 + 100);
    const { assignments } = core.tick(T0 + 100);
    expect(assignments[0]?.tasks).toHaveLength(1);
    let dispatched = 6;
    for (let ms = 101; ms <= 10_000; ms += 13) dispatched += poll(T0 + ms).length;
    expect(dispatched).toBeLessThanOrEqual(10 * 10 + 5);
    expect(dispatched).toBeGreaterThanOrEqual(98);
  });

  test("without an admin limit, the lowest rate declared by a live poller applies", () => {
    const { core, add, poll } = setup();
    for (let i = 0; i < 50; i++) add();
    poll(T0, 0, { identity: "fast", declaredRate: 50 });
    expect(poll(T0, 1_000, { identity: "slow", declaredRate: 2 })).toHaveLength(2);
    expect(core.peekQueue("q")?.effectiveLimit(T0)).toMatchObject({ source: "poller", declaredBy: "slow", limit: { ratePerSecond: 2 } });
    core.leave("q", "slow", T0);
    expect(core.peekQueue("q")?.effectiveLimit(T0)).toMatchObject({ source: "poller", declaredBy: "fast" });
    core.setLimit("q", { ratePerSecond: 100, burst: 100 }, T0);
    expect(core.peekQueue("q")?.effectiveLimit(T0).source).toBe("admin");
  });

  test("a paused queue accepts tasks and dispatches none; resume answers parked polls", () => {
    const { core, add, poll } = setup();
    core.setPaused("q", true, T0);
    add();
    expect(poll(T0)).toEqual([]);
    core.park({ queue: "q", types: ["t"], max: 5, identity: "p", waitMs: 30_000 }, T0);
    add();
    const assignments = core.setPaused("q", false, T0);
    expect(assignments[0]?.tasks).toHaveLength(2);
  });
});

describe("fairness", () => {
  test("one key's burst cannot starve another key's few tasks", () => {
    const { add, poll } = setup();
    for (let i = 0; i < 1_000; i++) add({ fairnessKey: "big" });
    for (let i = 0; i < 10; i++) add({ fairnessKey: "small" });
    const first20 = poll(T0, 20).map((task) => task.fairnessKey);
    expect(first20.filter((key) => key === "small")).toHaveLength(10);
  });

  test("weights share dispatches in proportion among keys with backlog", () => {
    const { core, add, poll } = setup();
    for (let i = 0; i < 100; i++) add({ fairnessKey: "a" });
    for (let i = 0; i < 100; i++) add({ fairnessKey: "b" });
    core.setFairness("q", "a", 3, undefined, T0);
    const keys = poll(T0, 40).map((task) => task.fairnessKey);
    expect(keys.filter((key) => key === "a")).toHaveLength(30);
    expect(keys.filter((key) => key === "b")).toHaveLength(10);
  });

  test("priority still orders first; a key's rate limit holds only that key back", () => {
    const { core, add, poll } = setup();
    for (let i = 0; i < 5; i++) add({ fairnessKey: "a", priority: 5 });
    const urgent = add({ fairnessKey: "b", priority: 1 });
    expect(poll(T0, 1)[0]?.id).toBe(urgent.id);
    for (let i = 0; i < 5; i++) add({ fairnessKey: "c" });
    core.setFairness("q", "c", 1, 1, T0);
    const keys = poll(T0, 20).map((task) => task.fairnessKey);
    expect(keys.filter((key) => key === "c")).toHaveLength(1);
    expect(keys.filter((key) => key === "a")).toHaveLength(5);
  });
});

describe("pending counts by fairness key", () => {
  test("match a census of the rings through dispatch, release, retry, cancel, delay, fallback and schedule-to-start timeouts", () => {
    const random = seededRandom(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const { core, add } = setup();
    const keys = ["a", "b", "c", undefined];
    let now = T0;
    const leased: LiveTask[] = [];
    const check = () => {
      for (const name of ["q", "other"]) {
        const queue = core.peekQueue(name);
        if (!queue) continue;
        const census = queue.pendingCensus().byKey;
        for (const key of ["a", "b", "c"]) expect(queue.pendingOfKey(key), `${name} ${key}`).toBe(census.get(key) ?? 0);
      }
    };
    for (let step = 0; step < 600; step++) {
      const roll = random();
      if (roll < 0.35) {
        const fallback = random() < 0.15;
        add(
          {
            fairnessKey: pick(keys),
            runAt: random() < 0.15 ? now + 50 : undefined,
            fallbackQueue: fallback ? "other" : undefined,
            fallbackAt: fallback ? now + 40 : undefined,
            options: anOptions(random() < 0.1 ? { scheduleToStartMs: 80 } : { retry: { maxAttempts: 3, initialIntervalMs: 30 } }),
          },
          now,
        );
      } else if (roll < 0.55) {
        const queue = pick(["q", "other"]);
        leased.push(...core.takeForPoll({ queue, types: ["t"], max: 1 + Math.floor(random() * 4), identity: "w", waitMs: 0 }, now));
      } else if (roll < 0.65 && leased.length > 0) {
        core.release(leased.splice(0, 2), now);
      } else if (roll < 0.8 && leased.length > 0) {
        const task = leased.shift()!;
        if (task.state === "running" && task.lease) {
          const plan = core.planSettle(task, task.lease.token, random() < 0.5 ? { kind: "completed", resultJson: undefined } : { kind: "failed", failure: { type: "E", message: "no" }, errorJson: "{}" }, now);
          core.applySettle(task, plan);
        }
      } else if (roll < 0.88) {
        const live = [...core.liveTasks()];
        if (live.length > 0) {
          const task = pick(live);
          core.applyCancel(task, core.planCancel(task, now));
        }
      } else {
        now += Math.floor(random() * 60);
        core.tick(now);
      }
      check();
    }
    expect(core.peekQueue("q")?.pendingOfKey("a")).toBeGreaterThan(0);
  });

  test("a key's rate limit with a backlog reads the key's count, not a census of the rings", () => {
    const { core, add, poll } = setup();
    for (let i = 0; i < 50; i++) add({ fairnessKey: "slow" });
    core.setFairness("q", "slow", 1, 2, T0);
    expect(poll(T0, 10)).toHaveLength(2);
    // Two parked polls: the first takes the token of T0 + 500, the second waits for the next.
    core.park({ queue: "q", types: ["t"], max: 10, identity: "p1", waitMs: 30_000 }, T0);
    core.park({ queue: "q", types: ["t"], max: 10, identity: "p2", waitMs: 30_000 }, T0);
    const queue = core.peekQueue("q")!;
    expect(queue.pendingOfKey("slow")).toBe(48);
    queue.ready.census = () => {
      throw new Error("census on the wake path");
    };
    expect(core.tick(T0 + 500).assignments.map((assignment) => assignment.tasks.length)).toEqual([1]);
    expect(queue.pendingOfKey("slow")).toBe(47);
    expect(core.nextDeadline()).toBe(T0 + 1_000);
  });
});

describe("pollers and explain", () => {
  test("a poller disappears at once when it leaves and within 2 x its long-poll time when killed", () => {
    const { core, poll } = setup();
    poll(T0, 1, { identity: "graceful" });
    poll(T0, 1, { identity: "killed" });
    core.leave("q", "graceful", T0);
    const live = (now: number) => core.peekQueue("q")!.pollers.live(now).map((p) => p.identity);
    expect(live(T0)).toEqual(["killed"]);
    expect(live(T0 + 60_000)).toEqual(["killed"]);
    expect(live(T0 + 60_001)).toEqual([]);
  });

  test("explain names what a pending task waits for", () => {
    const { core, add, poll } = setup();
    const task = add({ priority: 4 });
    const why = () => explainTask(recordOfLiveTask(task), core.peekQueue("q"), T0).reason;
    expect(why()).toBe("no_poller");
    poll(T0, 0, { types: ["other"] });
    expect(why()).toBe("no_poller_for_type");
    poll(T0, 0);
    add({ priority: 1 });
    expect(why()).toBe("priority");
    core.setPaused("q", true, T0);
    expect(why()).toBe("paused");
    core.setPaused("q", false, T0);
    core.setLimit("q", { ratePerSecond: 1, burst: 1 }, T0);
    poll(T0, 1);
    expect(why()).toBe("rate_limit");
  });
});
