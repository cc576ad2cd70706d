/** Timeouts, retries, cancellation and scheduling in the pure core, driven by explicit time. */
import { describe, expect, test } from "vitest";
import { DispatchCore, InvalidArgumentError, recordOfLiveTask, resolveTaskOptions, type LiveTask, type NewTask, type SettleOutcome, type TaskOptionsInput } from "../../../lib/core/index.ts";
import { anOptions } from "../../support/task-builders.ts";

const T0 = 1_000_000;
const s = (seconds: number) => T0 + seconds * 1_000;
const boom: SettleOutcome & { kind: "failed" } = { kind: "failed", failure: { type: "Boom", message: "no" }, errorJson: '{"type":"Boom","message":"no"}' };

function setup(options: TaskOptionsInput = {}, extra: Partial<NewTask> = {}) {
  let tokens = 0;
  const core = new DispatchCore({ newLeaseToken: () => `lease-${++tokens}` });
  const task = core.createTask({ id: "t1", queue: "q", type: "t", inputJson: undefined, priority: 3, options: anOptions(options), ...extra }, T0);
  core.addTasks([task], T0);
  const poll = (now: number) => core.takeForPoll({ queue: "q", types: ["t"], max: 1, identity: "w", waitMs: 0 }, now)[0];
  const fail = (leased: LiveTask, now: number, outcome: SettleOutcome = boom) => core.applySettle(leased, core.planSettle(leased, leased.lease!.token, outcome, now));
  /** Advances time in steps, applying timers, until the task is pending or final; returns when. */
  const nextReady = (from: number, until: number): number | undefined => {
    for (let now = from; now <= until; now += 100) {
      core.tick(now);
      if (task.state === "pending") return now;
      if (task.gone) return undefined;
    }
    return undefined;
  };
  return { core, task, poll, fail, nextReady };
}

describe("retries", () => {
  /** Fails every attempt at once; returns the seconds at which the first `count` attempts started. */
  function attemptStarts(options: TaskOptionsInput, count: number): number[] {
    const { poll, fail, nextReady } = setup(options);
    const starts: number[] = [];
    let now = T0;
    for (let i = 0; i < count; i++) {
      const leased = poll(now)!;
      starts.push((now - T0) / 1_000);
      fail(leased, now);
      now = nextReady(now, s(120)) ?? now;
    }
    return starts;
  }

  test("with the defaults, attempts start at 0, 1, 3, 7 and 15 s", () => {
    expect(attemptStarts({}, 5)).toEqual([0, 1, 3, 7, 15]);
  });

  test("maxInterval caps the gaps", () => {
    expect(attemptStarts({ retry: { initialIntervalMs: 1_000, backoffCoefficient: 3, maxIntervalMs: 5_000 } }, 5)).toEqual([0, 1, 4, 9, 14]);
  });

  test("the next attempt is not dispatched before its backoff ends", () => {
    const { task, poll, fail } = setup();
    fail(poll(T0)!, T0);
    expect(task.state).toBe("scheduled");
    expect(poll(s(0.9))).toBeUndefined();
  });

  test("an exhausted budget ends the task failed, with the last error", () => {
    const { core, task, poll, fail, nextReady } = setup({ retry: { maxAttempts: 2 } });
    fail(poll(T0)!, T0);
    const again = nextReady(T0, s(10))!;
    fail(poll(again)!, again);
    expect(task).toMatchObject({ state: "failed", attempt: 2, errorJson: boom.errorJson, gone: true });
    expect(core.queueCounts()[0]).toMatchObject({ scheduled: 0, pending: 0, running: 0 });
  });

  test("a non-retryable error (flag or listed type) ends the task at once", () => {
    const flagged = setup();
    flagged.fail(flagged.poll(T0)!, T0, { ...boom, failure: { ...boom.failure, nonRetryable: true } });
    expect(flagged.task.state).toBe("failed");
    const listed = setup({ retry: { nonRetryableErrorTypes: ["Boom"] } });
    listed.fail(listed.poll(T0)!, T0);
    expect(listed.task.state).toBe("failed");
  });
});

describe("timeouts", () => {
  test("start-to-close: the attempt times out and is retried; the last one ends timed_out", () => {
    const { core, task, poll, nextReady } = setup({ startToCloseMs: 2_000, retry: { maxAttempts: 2 } });
    poll(T0);
    const effects = core.tick(s(2));
    expect(effects.ended).toEqual([expect.objectContaining({ attempt: 1, outcome: "timed_out", errorJson: expect.stringContaining("StartToCloseTimeout") })]);
    expect(task.state).toBe("scheduled");
    const again = nextReady(s(2), s(10))!;
    poll(again);
    core.tick(again + 2_000);
    expect(task).toMatchObject({ state: "timed_out", attempt: 2 });
  });

  test("heartbeat: a missed heartbeat fails the attempt; heartbeats extend the lease only up to start-to-close", () => {
    const { core, task, poll } = setup({ startToCloseMs: 10_000, heartbeatMs: 3_000 });
    const leased = poll(T0)!;
    expect(leased.lease?.deadline).toBe(s(3));
    for (const at of [2, 4, 6, 8]) {
      const deadline = core.planHeartbeat(leased, leased.lease!.token, s(at));
      core.applyHeartbeat(leased, leased.lease!.token, deadline, `{"at":${at}}`);
    }
    expect(leased.lease?.deadline).toBe(s(10));
    expect(core.tick(s(9.9)).changed).toEqual([]);
    const effects = core.tick(s(10));
    expect(effects.ended[0]?.errorJson).toContain("StartToCloseTimeout");
    expect(task.heartbeatJson).toBe('{"at":8}');

    const other = setup({ startToCloseMs: 10_000, heartbeatMs: 3_000 });
    other.poll(T0);
    expect(other.core.tick(s(3)).ended[0]?.errorJson).toContain("HeartbeatTimeout");
  });

  test("without a heartbeat timeout, heartbeats store details but never extend start-to-close", () => {
    const { core, poll } = setup({ startToCloseMs: 5_000 });
    const leased = poll(T0)!;
    const deadline = core.planHeartbeat(leased, leased.lease!.token, s(4));
    expect(deadline).toBe(s(5));
  });

  test("schedule-to-start: final timed_out, not retried", () => {
    const { core, task, poll } = setup({ scheduleToStartMs: 5_000 });
    expect(core.tick(s(4.9)).changed).toEqual([]);
    core.tick(s(5));
    expect(task).toMatchObject({ state: "timed_out", attempt: 0 });
    expect(task.errorJson).toContain("ScheduleToStartTimeout");
    expect(poll(s(6))).toBeUndefined();
  });

  test("schedule-to-start counts from when each attempt became pending", () => {
    const { core, task, poll, fail } = setup({ scheduleToStartMs: 5_000 });
    fail(poll(s(4))!, s(4));
    core.tick(s(5));
    expect(task.state).toBe("pending");
    core.tick(s(9.9));
    expect(task.state).toBe("pending");
    core.tick(s(10));
    expect(task.state).toBe("timed_out");
  });

  test("schedule-to-close bounds the whole task, including backoff and a running attempt", () => {
    const waiting = setup({ scheduleToCloseMs: 6_000, startToCloseMs: 2_000, retry: { initialIntervalMs: 1_000 } });
    waiting.fail(waiting.poll(T0)!, T0);
    waiting.core.tick(s(1));
    waiting.poll(s(1));
    const effects = waiting.core.tick(s(3));
    expect(waiting.task.state).toBe("scheduled");
    expect(effects.ended).toHaveLength(1);
    waiting.core.tick(s(5));
    expect(waiting.task.state).toBe("pending");
    waiting.core.tick(s(6));
    expect(waiting.task.state).toBe("timed_out");
    expect(waiting.task.errorJson).toContain("ScheduleToCloseTimeout");

    const running = setup({ scheduleToCloseMs: 4_000 });
    running.poll(T0);
    const ended = running.core.tick(s(4)).ended;
    expect(running.task.state).toBe("timed_out");
    expect(ended[0]?.outcome).toBe("timed_out");
  });

  test("a retry that could not start before schedule-to-close ends the task at once", () => {
    const { task, poll, fail } = setup({ scheduleToCloseMs: 10_000, retry: { initialIntervalMs: 20_000, maxIntervalMs: 20_000 } });
    fail(poll(T0)!, T0);
    expect(task.state).toBe("failed");
  });

  test("invalid combinations are rejected and name the field", () => {
    expect(() => resolveTaskOptions({ startToCloseMs: 1_000, heartbeatMs: 2_000 })).toThrow(/heartbeatTimeout/);
    expect(() => resolveTaskOptions({ startToCloseMs: 5_000, scheduleToCloseMs: 1_000 })).toThrow(/startToCloseTimeout/);
    expect(() => resolveTaskOptions({ scheduleToStartMs: 5_000, scheduleToCloseMs: 1_000 })).toThrow(/scheduleToStartTimeout/);
    expect(() => resolveTaskOptions({ retry: { initialIntervalMs: 5_000, maxIntervalMs: 1_000 } })).toThrow(/maxInterval/);
    expect(() => resolveTaskOptions({ retry: { backoffCoefficient: 0.5 } })).toThrow(InvalidArgumentError);
    expect(resolveTaskOptions({ scheduleToCloseMs: 60_000 }).startToCloseMs).toBe(60_000);
  });
});

describe("cancellation", () => {
  test("a pending or scheduled task is canceled at once and never dispatched", () => {
    const pending = setup();
    pending.core.applyCancel(pending.task, pending.core.planCancel(pending.task, T0));
    expect(pending.task.state).toBe("canceled");
    expect(pending.poll(T0)).toBeUndefined();
    expect(pending.core.queueCounts()[0]).toMatchObject({ pending: 0 });

    const delayed = setup({}, { runAt: s(10) });
    expect(delayed.task.state).toBe("scheduled");
    delayed.core.applyCancel(delayed.task, delayed.core.planCancel(delayed.task, T0));
    delayed.core.tick(s(10));
    expect(delayed.task.state).toBe("canceled");
  });

  test("a running task gets cancelRequested and ends canceled however its handler ends", () => {
    for (const outcome of [{ kind: "completed" as const, resultJson: "1" }, boom]) {
      const { core, task, poll } = setup();
      const leased = poll(T0)!;
      const after = core.planCancel(task, T0);
      expect(after).toMatchObject({ state: "running", cancelRequested: true });
      core.applyCancel(task, after);
      core.applySettle(leased, core.planSettle(leased, leased.lease!.token, outcome, s(1)));
      expect(task.state).toBe("canceled");
    }
  });

  test("a cancel-requested task whose lease runs out ends canceled, not retried", () => {
    const { core, task, poll } = setup({ startToCloseMs: 1_000 });
    poll(T0);
    core.applyCancel(task, core.planCancel(task, T0));
    core.tick(s(1));
    expect(task.state).toBe("canceled");
  });

  test("timers wait while a cancel is being committed", () => {
    const { core, task } = setup({}, { runAt: s(1) });
    const after = core.planCancel(task, T0);
    expect(core.tick(s(2)).changed).toEqual([]);
    core.applyCancel(task, after);
    expect(task.state).toBe("canceled");
  });
});

describe("scheduling and dead letters", () => {
  test("a delayed task is scheduled until its time, then pending", () => {
    const { core, task, poll } = setup({}, { runAt: s(30) });
    expect(poll(s(29))).toBeUndefined();
    core.tick(s(29.9));
    expect(task.state).toBe("scheduled");
    core.tick(s(30));
    expect(poll(s(30))?.id).toBe("t1");
  });

  test("a revived dead task gets a fresh attempt budget", () => {
    const { core, task, poll, fail } = setup({ retry: { maxAttempts: 1 } });
    fail(poll(T0)!, T0);
    expect(task.state).toBe("failed");
    const revived = core.reviveTask({ ...recordOfLiveTask(task), leaseToken: undefined, leaseDeadline: undefined }, s(60));
    core.addTasks([revived], s(60), ["failed"]);
    expect(core.queueCounts()[0]).toMatchObject({ pending: 1 });
    const leased = poll(s(60))!;
    expect(leased).toMatchObject({ attempt: 2, budgetStart: 1 });
    fail(leased, s(60));
    expect(revived.state).toBe("failed");
  });
});
