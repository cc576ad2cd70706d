import { describe, expect, test } from "vitest";
import { ConflictError, DispatchCore, type LiveTask, type NewTask } from "../../../lib/core/index.ts";
import { aTaskRecord, anOptions, liveAtBoot } from "../../support/task-builders.ts";

const T0 = 1_000_000;

function setup() {
  let tokens = 0;
  const core = new DispatchCore({ newLeaseToken: () => `lease-${++tokens}` });
  let ids = 0;
  const add = (queue: string, type: string, now = T0, extra: Partial<NewTask> = {}): LiveTask => {
    const task = core.createTask({ id: `t${++ids}`, queue, type, inputJson: undefined, priority: 3, options: anOptions({ startToCloseMs: 10_000 }), ...extra }, now);
    core.addTasks([task], now);
    return task;
  };
  const poll = (queue: string, types: string[], max = 10, now = T0) => core.takeForPoll({ queue, types, max, identity: "w1", waitMs: 0 }, now);
  return { core, add, poll };
}

describe("dispatch core: dispatch", () => {
  test("dispatches tasks of one type in enqueue order", () => {
    const { add, poll } = setup();
    const [a, b, c] = [add("q", "x"), add("q", "x"), add("q", "x")];
    expect(poll("q", ["x"], 2).map((t) => t.id)).toEqual([a.id, b.id]);
    expect(poll("q", ["x"], 2).map((t) => t.id)).toEqual([c.id]);
  });

  test("a poll naming several types still sees queue order across them", () => {
    const { add, poll } = setup();
    const ids = [add("q", "x"), add("q", "y"), add("q", "x"), add("q", "z")].map((t) => t.id);
    expect(poll("q", ["x", "y"]).map((t) => t.id)).toEqual([ids[0], ids[1], ids[2]]);
  });

  test("never dispatches a task to a poll that does not name its type", () => {
    const { add, poll } = setup();
    add("q", "b");
    expect(poll("q", ["a"])).toEqual([]);
    expect(poll("q", ["a", "b"])).toHaveLength(1);
  });

  test("priorities are strict between levels and FIFO within a level", () => {
    const { add, poll } = setup();
    const low = add("q", "x", T0, { priority: 5 });
    const mid1 = add("q", "x", T0, { priority: 3 });
    const high = add("q", "y", T0, { priority: 1 });
    const mid2 = add("q", "x", T0, { priority: 3 });
    expect(poll("q", ["x", "y"]).map((t) => t.id)).toEqual([high.id, mid1.id, mid2.id, low.id]);
  });

  test("queues are independent, exist on demand, and leave memory when idle", () => {
    const { core, add, poll } = setup();
    add("q1", "x");
    expect(poll("q2", ["x"])).toEqual([]);
    expect(core.queueCounts().map((q) => q.name)).toEqual(["q1", "q2"]);
    core.sweepIdle(T0 + 1_000);
    expect(core.queueCounts().map((q) => q.name)).toEqual(["q1", "q2"]);
    core.sweepIdle(T0 + 2_001);
    expect(core.queueCounts().map((q) => q.name)).toEqual(["q1"]);
  });

  test("leasing sets attempt, worker, token and a deadline from the start-to-close timeout", () => {
    const { add, poll } = setup();
    add("q", "x", T0, { options: anOptions({ startToCloseMs: 5_000 }) });
    const [task] = poll("q", ["x"], 1, T0 + 100);
    expect(task).toMatchObject({ state: "running", attempt: 1, worker: "w1", startedAt: T0 + 100, lease: { token: "lease-1", deadline: T0 + 5_100 } });
  });

  test("a new task goes straight to the oldest parked poll that handles its type", () => {
    const { core, add } = setup();
    const first = core.park({ queue: "q", types: ["a"], max: 1, identity: "p1", waitMs: 30_000 }, T0);
    const second = core.park({ queue: "q", types: ["b"], max: 1, identity: "p2", waitMs: 30_000 }, T0);
    const third = core.park({ queue: "q", types: ["b"], max: 1, identity: "p3", waitMs: 30_000 }, T0);
    const task = core.createTask({ id: "n1", queue: "q", type: "b", inputJson: undefined, priority: 3, options: anOptions() }, T0);
    expect(core.addTasks([task], T0)).toEqual([{ pollerId: second, tasks: [task] }]);
    expect(task.worker).toBe("p2");
    expect([core.unpark(second, T0), core.unpark(first, T0), core.unpark(third, T0)]).toEqual([false, true, true]);
    void add;
  });

  test("a batch fills each parked poll up to its max, first come first served", () => {
    const { core } = setup();
    const p1 = core.park({ queue: "q", types: ["x"], max: 2, identity: "p1", waitMs: 30_000 }, T0);
    const p2 = core.park({ queue: "q", types: ["x"], max: 2, identity: "p2", waitMs: 30_000 }, T0);
    const tasks = [1, 2, 3].map((n) => core.createTask({ id: `b${n}`, queue: "q", type: "x", inputJson: undefined, priority: 3, options: anOptions() }, T0));
    expect(core.addTasks(tasks, T0).map((a) => [a.pollerId, a.tasks.map((t) => t.id)])).toEqual([
      [p1, ["b1", "b2"]],
      [p2, ["b3"]],
    ]);
  });

  describe("polls that yield (a worker whose slots take turns among its queues)", () => {
    const newTask = (core: DispatchCore, queue: string, type: string, id = `y-${queue}-${type}`) =>
      core.createTask({ id, queue, type, inputJson: undefined, priority: 3, options: anOptions() }, T0);
    /** Worker w1 looked at `looked` (nothing there) and parked a poll on `parkedOn` that yields to it (or not). */
    function turnTaker(core: DispatchCore, { looked = "q@worker:w1", parkedOn = "q", yields = true, types = ["t"] } = {}) {
      expect(core.takeForPoll({ queue: looked, types, max: 1, identity: "w1", waitMs: 0 }, T0)).toEqual([]);
      return core.park({ queue: parkedOn, types, max: 1, identity: "w1", waitMs: 1_000, yieldTo: yields ? [looked] : undefined }, T0);
    }

    test("a task ready on another queue the worker polls ends its yielding poll empty", () => {
      const { core } = setup();
      const parked = turnTaker(core);
      const sticky = newTask(core, "q@worker:w1", "t");
      expect(core.addTasks([sticky], T0)).toEqual([{ pollerId: parked, tasks: [] }]);
      expect(core.unpark(parked, T0)).toBe(false); // no longer parked
      expect(core.takeForPoll({ queue: "q@worker:w1", types: ["t"], max: 1, identity: "w1", waitMs: 0 }, T0)).toEqual([sticky]);
    });

    test("leaves the poll parked when the task is not for that worker, or cannot be dispatched", () => {
      const { core } = setup();
      const parked = turnTaker(core, { types: ["t"] });
      expect(core.addTasks([newTask(core, "q@worker:w1", "other")], T0)).toEqual([]); // a type it does not handle
      expect(core.addTasks([newTask(core, "elsewhere", "t")], T0)).toEqual([]); // a queue it does not yield to
      core.setPaused("q@worker:w1", true, T0);
      expect(core.addTasks([newTask(core, "q@worker:w1", "t")], T0)).toEqual([]); // paused there
      expect(core.unpark(parked, T0)).toBe(true);
    });

    test("leaves a poll that does not yield, and one whose worker has a poll parked where the task is", () => {
      const { core } = setup();
      const plain = turnTaker(core, { yields: false });
      expect(core.addTasks([newTask(core, "q@worker:w1", "t")], T0)).toEqual([]);
      expect(core.unpark(plain, T0)).toBe(true);
      const { core: other } = setup();
      const yielding = turnTaker(other, { looked: "a", parkedOn: "b" });
      const there = other.park({ queue: "a", types: ["t"], max: 1, identity: "w1", waitMs: 1_000, yieldTo: ["b"] }, T0);
      const task = newTask(other, "a", "t");
      expect(other.addTasks([task], T0)).toEqual([{ pollerId: there, tasks: [task] }]); // taken where it is
      expect(other.unpark(yielding, T0)).toBe(true);
    });

    test("readyOnAny: a task of the poll's types ready on a queue it yields to, unless held back there", () => {
      const { core } = setup();
      core.addTasks([newTask(core, "q@worker:w1", "t")], T0);
      expect(core.readyOnAny(["q@host:h", "q@worker:w1"], ["t"], T0)).toBe(true);
      expect(core.readyOnAny(["q@worker:w1"], ["other"], T0)).toBe(false);
      expect(core.readyOnAny(["q@host:h", "nowhere"], ["t"], T0)).toBe(false);
      core.setPaused("q@worker:w1", true, T0);
      expect(core.readyOnAny(["q@worker:w1"], ["t"], T0)).toBe(false);
      core.setPaused("q@worker:w1", false, T0);
      core.setFairness("q@worker:w1", "tenant", 1, 1, T0);
      expect(core.readyOnAny(["q@worker:w1"], ["t"], T0)).toBe(false); // a key's rate could hold it back
    });

    test("a yielding poll that was answered or gave up is forgotten", () => {
      const { core } = setup();
      const parked = turnTaker(core);
      expect(core.unpark(parked, T0)).toBe(true); // timed out
      expect(core.addTasks([newTask(core, "q@worker:w1", "t")], T0)).toEqual([]);
      const again = core.park({ queue: "q", types: ["t"], max: 1, identity: "w1", waitMs: 1_000, yieldTo: ["q@worker:w1"] }, T0);
      const onQ = newTask(core, "q", "t", "on-q");
      expect(core.addTasks([onQ], T0)).toEqual([{ pollerId: again, tasks: [onQ] }]); // answered with a task
      expect(core.addTasks([newTask(core, "q@worker:w1", "t", "second")], T0)).toEqual([]); // nothing left to end
    });
  });

  test("released tasks return to the front and the attempt does not count", () => {
    const { core, add, poll } = setup();
    const [a, b] = [add("q", "x"), add("q", "x")];
    core.release(poll("q", ["x"], 2), T0);
    expect(poll("q", ["x"], 2).map((t) => [t.id, t.attempt])).toEqual([
      [a.id, 1],
      [b.id, 1],
    ]);
  });

  test("a stale lease token is a conflict", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x");
    poll("q", ["x"]);
    expect(() => core.planSettle(task, "lease-999", { kind: "completed", resultJson: undefined }, T0)).toThrow(ConflictError);
    expect(() => core.planHeartbeat(task, "nope", T0)).toThrow(ConflictError);
  });

  test("a settled task's old lease deadline does not bring it back", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, { options: anOptions({ startToCloseMs: 1_000 }) });
    poll("q", ["x"]);
    core.applySettle(task, core.planSettle(task, "lease-1", { kind: "completed", resultJson: "1" }, T0));
    expect(core.tick(T0 + 10_000).changed).toEqual([]);
    expect(core.getLive(task.id)).toBeUndefined();
    expect(core.queueCounts()[0]).toMatchObject({ pending: 0, running: 0 });
  });

  test("a lease being settled does not expire; after an aborted settle it does", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, { options: anOptions({ startToCloseMs: 1_000 }) });
    poll("q", ["x"]);
    core.planSettle(task, "lease-1", { kind: "completed", resultJson: undefined }, T0);
    expect(core.tick(T0 + 5_000).changed).toEqual([]);
    core.abortSettle(task);
    expect(core.tick(T0 + 5_000).changed).toEqual([task]);
  });

  test("pending tasks keep their inputs in memory within a budget; the rest wait in the store", () => {
    const { core, add, poll } = setup();
    const big = "x".repeat(3 << 20);
    const kept = add("q", "x", T0, { inputJson: `"${big}"` });
    const delayed = add("q", "x", T0, { inputJson: "{}", runAt: T0 + 1_000 });
    const over = add("q", "x", T0, { inputJson: `"${big}"` });
    expect([kept.inputJson?.length, delayed.inputJson, over.inputJson]).toEqual([big.length + 2, undefined, undefined]);
    // The lease takes the kept input; once that task ends, the budget has room again.
    const [leased] = poll("q", ["x"], 1);
    expect(leased?.inputJson).toBe(kept.inputJson);
    core.applySettle(leased!, core.planSettle(leased!, leased!.lease!.token, { kind: "completed", resultJson: undefined }, T0));
    expect(leased!.inputJson).toBeUndefined();
    expect(add("q", "x", T0, { inputJson: `"${big}"` }).inputJson?.length).toBe(big.length + 2);
  });

  test("tasks handed straight to parked polls leave the input budget as it was", () => {
    const { core, add } = setup();
    const big = `"${"x".repeat(3 << 20)}"`;
    for (let i = 0; i < 3; i++) {
      core.park({ queue: "q", types: ["x"], max: 1, identity: "w1", waitMs: 30_000 }, T0);
      const task = add("q", "x", T0, { inputJson: big });
      expect(task.state).toBe("running");
      core.applySettle(task, core.planSettle(task, task.lease!.token, { kind: "completed", resultJson: undefined }, T0));
    }
    // 4 Mi characters hold one of these, not two.
    expect([add("q", "x", T0, { inputJson: big }).inputJson, add("q", "x", T0, { inputJson: big }).inputJson]).toEqual([big, undefined]);
  });

  test("timers still due fire after thousands of finished tasks' timers were dropped", () => {
    const { core, add, poll } = setup();
    const long = anOptions({ startToCloseMs: 60_000 });
    const leased = add("q", "lease", T0, { options: anOptions({ startToCloseMs: 30_000, retry: { maxAttempts: 1 } }) });
    poll("q", ["lease"]);
    const delayed = add("q", "delay", T0, { runAt: T0 + 40_000 });
    const released = add("host", "fb", T0, { fallbackQueue: "base", fallbackAt: T0 + 50_000 });
    const firstAttempt = poll("host", ["fb"]);
    // Each of these leaves a lease timer behind when it completes: enough to compact the heap.
    for (let i = 0; i < 5_000; i++) {
      const task = add("busy", "x", T0, { options: long });
      poll("busy", ["x"]);
      core.applySettle(task, core.planSettle(task, task.lease!.token, { kind: "completed", resultJson: undefined }, T0));
    }
    // Given back after the compactions: its fallback applies again.
    core.release(firstAttempt, T0);
    expect(core.tick(T0 + 30_000).changed.map((t) => [t.id, t.state])).toEqual([[leased.id, "timed_out"]]);
    expect(core.tick(T0 + 40_000).changed.map((t) => [t.id, t.state])).toEqual([[delayed.id, "pending"]]);
    expect(core.tick(T0 + 50_000).changed.map((t) => [t.id, t.queue])).toEqual([[released.id, "base"]]);
    expect(core.tick(T0 + 120_000).changed).toEqual([]);
  });

  test("restore keeps running leases, makes tasks without a known lease pending, and re-arms delays", () => {
    const { core, poll } = setup();
    const running = aTaskRecord({ id: "r", seq: 1, state: "running", attempt: 1, leaseToken: "tok", leaseDeadline: T0 + 50, worker: "w", startedAt: T0 - 10 });
    const lost = aTaskRecord({ id: "u", seq: 3, state: "running", attempt: 1 });
    const pending = aTaskRecord({ id: "p", seq: 4 });
    const delayed = aTaskRecord({ id: "d", seq: 5, state: "scheduled", runAt: T0 + 500, readyAt: undefined });
    core.restore(liveAtBoot([running, lost, pending, delayed]), new Map(), 10, T0);
    expect(poll("q", ["t"], 10).map((t) => [t.id, t.attempt])).toEqual([
      ["u", 2],
      ["p", 1],
    ]);
    expect(core.getLive("r")?.lease?.token).toBe("tok");
    expect(core.tick(T0 + 50).changed.map((t) => [t.id, t.state])).toEqual([["r", "scheduled"]]);
    expect(core.tick(T0 + 500).changed.map((t) => [t.id, t.state])).toEqual([["d", "pending"]]);
    expect(core.createTask({ id: "n", queue: "q", type: "t", inputJson: undefined, priority: 3, options: anOptions() }, T0).seq).toBe(11);
  });
});
