import { describe, expect, test } from "vitest";
import { ConflictError, DispatchCore, type LiveTask } from "../../../lib/core/index.ts";
import { aTaskRecord } from "../../support/task-builders.ts";

const T0 = 1_000_000;

function setup() {
  let tokens = 0;
  const core = new DispatchCore({ newLeaseToken: () => `lease-${++tokens}` });
  let ids = 0;
  const add = (queue: string, type: string, now = T0, startToCloseMs = 10_000): LiveTask => {
    const task = core.createTask({ id: `t${++ids}`, queue, type, inputJson: undefined, startToCloseMs }, now);
    core.addTasks([task], now);
    return task;
  };
  const poll = (queue: string, types: string[], max = 10, now = T0) => core.takeForPoll({ queue, types, max, identity: "w1" }, now);
  return { core, add, poll };
}

describe("dispatch core", () => {
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

  test("queues are independent and exist on demand", () => {
    const { core, add, poll } = setup();
    add("q1", "x");
    expect(poll("q2", ["x"])).toEqual([]);
    expect(core.queueCounts().map((q) => q.name)).toEqual(["q1"]);
  });

  test("leasing sets attempt, token and deadline from the start-to-close timeout", () => {
    const { add, poll } = setup();
    add("q", "x", T0, 5_000);
    const [task] = poll("q", ["x"], 1, T0 + 100);
    expect(task).toMatchObject({ state: "running", attempt: 1, lease: { token: "lease-1", deadline: T0 + 5_100, worker: "w1" } });
  });

  test("a new task goes straight to the oldest parked poll that handles its type", () => {
    const { core } = setup();
    const first = core.park({ queue: "q", types: ["a"], max: 1, identity: "p1" }, T0);
    const second = core.park({ queue: "q", types: ["b"], max: 1, identity: "p2" }, T0);
    const third = core.park({ queue: "q", types: ["b"], max: 1, identity: "p3" }, T0);
    const task = core.createTask({ id: "n1", queue: "q", type: "b", inputJson: undefined, startToCloseMs: 1000 }, T0);
    const assignments = core.addTasks([task], T0);
    expect(assignments).toEqual([{ pollerId: second, tasks: [task] }]);
    expect(task.lease?.worker).toBe("p2");
    expect(core.unpark(second)).toBe(false);
    expect(core.unpark(first)).toBe(true);
    expect(core.unpark(third)).toBe(true);
  });

  test("a batch fills each parked poll up to its max, first come first served", () => {
    const { core } = setup();
    const p1 = core.park({ queue: "q", types: ["x"], max: 2, identity: "p1" }, T0);
    const p2 = core.park({ queue: "q", types: ["x"], max: 2, identity: "p2" }, T0);
    const tasks = [1, 2, 3].map((n) => core.createTask({ id: `b${n}`, queue: "q", type: "x", inputJson: undefined, startToCloseMs: 1000 }, T0));
    const assignments = core.addTasks(tasks, T0);
    expect(assignments.map((a) => [a.pollerId, a.tasks.map((t) => t.id)])).toEqual([
      [p1, ["b1", "b2"]],
      [p2, ["b3"]],
    ]);
  });

  test("an expired lease puts the task back at the front and the next dispatch is attempt 2", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, 1_000);
    add("q", "x");
    poll("q", ["x"], 1, T0);
    expect(core.tick(T0 + 999).expired).toEqual([]);
    expect(core.tick(T0 + 1_000).expired).toEqual([task]);
    const [again] = poll("q", ["x"], 1, T0 + 1_000);
    expect(again).toMatchObject({ id: task.id, attempt: 2 });
  });

  test("an expired lease goes straight to a parked poll", () => {
    const { core, add, poll } = setup();
    add("q", "x", T0, 1_000);
    poll("q", ["x"], 1, T0);
    const parked = core.park({ queue: "q", types: ["x"], max: 1, identity: "p2" }, T0);
    const { assignments } = core.tick(T0 + 1_000);
    expect(assignments[0]?.pollerId).toBe(parked);
    expect(assignments[0]?.tasks[0]?.attempt).toBe(2);
  });

  test("a heartbeat extends the lease by the start-to-close timeout", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, 1_000);
    poll("q", ["x"], 1, T0);
    const deadline = core.planHeartbeat(task, "lease-1", T0 + 800);
    core.applyHeartbeat(task, "lease-1", deadline, '{"step":3}');
    expect(core.tick(T0 + 1_500).expired).toEqual([]);
    expect(task.heartbeatJson).toBe('{"step":3}');
    expect(core.tick(T0 + 1_800).expired).toEqual([task]);
  });

  test("a stale lease token is a conflict", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, 1_000);
    poll("q", ["x"], 1, T0);
    expect(() => core.beginSettle(task, "lease-999")).toThrow(ConflictError);
    expect(() => core.planHeartbeat(task, "nope", T0)).toThrow(ConflictError);
  });

  test("a lease being settled does not expire; after an aborted settle it does", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, 1_000);
    poll("q", ["x"], 1, T0);
    core.beginSettle(task, "lease-1");
    expect(core.tick(T0 + 5_000).expired).toEqual([]);
    core.abortSettle(task);
    expect(core.tick(T0 + 5_000).expired).toEqual([task]);
  });

  test("settling removes the task and counts the outcome", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x");
    poll("q", ["x"]);
    core.beginSettle(task, "lease-1");
    core.finishSettle(task, "completed");
    expect(core.getLive(task.id)).toBeUndefined();
    expect(core.queueCounts()).toEqual([{ name: "q", pending: 0, running: 0, completed: 1, failed: 0, pollersWaiting: 0 }]);
  });

  test("a settled task's old lease deadline does not bring it back", () => {
    const { core, add, poll } = setup();
    const task = add("q", "x", T0, 1_000);
    poll("q", ["x"], 1, T0);
    core.beginSettle(task, "lease-1");
    core.finishSettle(task, "completed");
    expect(core.tick(T0 + 10_000).expired).toEqual([]);
    expect(poll("q", ["x"], 1, T0 + 10_000)).toEqual([]);
  });

  test("released tasks return to the front and the attempt does not count", () => {
    const { core, add, poll } = setup();
    const [a, b] = [add("q", "x"), add("q", "x")];
    const leased = poll("q", ["x"], 2);
    core.release(leased, T0);
    expect(poll("q", ["x"], 2).map((t) => [t.id, t.attempt])).toEqual([
      [a.id, 1],
      [b.id, 1],
    ]);
  });

  test("restore keeps a lease that is still running and requeues one that expired or is unknown", () => {
    const { core, poll } = setup();
    const running = aTaskRecord({ id: "r", seq: 1, state: "running", attempt: 1, leaseToken: "tok", leaseDeadline: T0 + 50, worker: "w" });
    const expired = aTaskRecord({ id: "e", seq: 2, state: "running", attempt: 1, leaseToken: "tok2", leaseDeadline: T0 - 1 });
    const unknown = aTaskRecord({ id: "u", seq: 3, state: "running", attempt: 1 });
    const pending = aTaskRecord({ id: "p", seq: 4 });
    core.restore([running, expired, unknown, pending], [{ queue: "q", state: "completed", count: 7 }], 10, T0);
    expect(poll("q", ["t"], 10).map((t) => [t.id, t.attempt])).toEqual([
      ["e", 2],
      ["u", 2],
      ["p", 1],
    ]);
    const live = core.getLive("r")!;
    expect(live.lease?.token).toBe("tok");
    expect(core.tick(T0 + 50).expired.map((t) => t.id)).toEqual(["r"]);
    expect(core.createTask({ id: "n", queue: "q", type: "t", inputJson: undefined, startToCloseMs: 1 }, T0).seq).toBe(11);
    expect(core.queueCounts()[0]).toMatchObject({ completed: 7 });
  });

  test("nextDeadline reports the earliest lease deadline", () => {
    const { core, add, poll } = setup();
    expect(core.nextDeadline()).toBeUndefined();
    add("q", "x", T0, 3_000);
    add("q", "y", T0, 1_000);
    poll("q", ["x", "y"], 2, T0);
    expect(core.nextDeadline()).toBe(T0 + 1_000);
  });
});
