import { describe, expect, it } from "vitest";
import type { WorkflowEvent } from "../../../../lib/protocol/index.ts";
import {
  ActivityFailedError,
  CachedStateMismatch,
  ExecutionReplay,
  InvalidHistoryError,
  NondeterminismError,
  SessionFailedError,
  type Activation,
  type Workflow,
} from "../../../../lib/worker/index.ts";
import { deferred } from "../worker-test-bundle.ts";
import { atOf, history, type HistoryBuilder } from "./history-builder.ts";

function replayFully(workflow: Workflow, events: readonly WorkflowEvent[]): Promise<Activation> {
  return new ExecutionReplay("wf-1", "wf", workflow).advance(events, { continuing: false });
}

/**
 * Plays server for one workflow: each `step` answers the task with the cached execution (a
 * fresh one the first time), checks that a full replay of the same history answers exactly
 * the same, then records the answer. `raceEvents` arrive while the task runs: after the
 * history was read, before the answer is recorded.
 */
class Simulation {
  readonly h: HistoryBuilder;
  private cached: ExecutionReplay | undefined;

  constructor(
    private readonly workflow: Workflow,
    input?: unknown,
    seed?: number,
  ) {
    this.h = history().started(input, seed);
  }

  async step(raceEvents: (h: HistoryBuilder) => void = () => {}): Promise<Activation> {
    let activation: Activation;
    if (!this.cached) {
      this.cached = new ExecutionReplay("wf-1", "wf", this.workflow);
      activation = await this.cached.advance(this.h.events, { continuing: false });
    } else {
      activation = await this.cached.advance(this.h.after(this.cached.seenUpTo), { continuing: true });
    }
    expect(await replayFully(this.workflow, this.h.events)).toEqual(activation);
    raceEvents(this.h);
    this.h.recordAnswer(activation);
    return activation;
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

const fileFlow: Workflow = async (ctx, input: { name: string }) => {
  const downloaded = await ctx.activity<{ path: string }>("download", input);
  return ctx.activity("process", downloaded);
};

describe("the first activation", () => {
  it("starts the function with the started input and answers its first commands and what it waits for", async () => {
    const activation = await replayFully(fileFlow, history().started({ name: "a.csv" }).events);
    expect(activation).toEqual({
      commands: [{ kind: "scheduleActivity", seq: 1, type: "download", input: { name: "a.csv" } }],
      seenUpTo: 1,
      blockedOn: ['activity "download" (seq 1)'],
      closes: false,
    });
  });

  it("numbers activity, timer and session commands with one seq counter from 1, and keeps options as given", async () => {
    const activation = await replayFully(async (ctx) => {
      void ctx.activity("a", undefined, { queue: "other", startToCloseTimeout: "30s", retryPolicy: { maxAttempts: 2 } });
      void ctx.sleep("2s");
      void ctx.createSession({ queue: "files", heartbeatTimeout: "5s" });
      void ctx.sleep(250);
      await ctx.signal("never");
    }, history().started().events);
    expect(activation.commands).toEqual([
      { kind: "scheduleActivity", seq: 1, type: "a", options: { queue: "other", startToCloseTimeout: "30s", retryPolicy: { maxAttempts: 2 } } },
      { kind: "startTimer", seq: 2, durationMs: 2_000 },
      { kind: "createSession", seq: 3, options: { queue: "files", heartbeatTimeout: "5s" } },
      { kind: "startTimer", seq: 4, durationMs: 250 },
    ]);
    expect(activation.blockedOn).toEqual([
      'activity "a" (seq 1)',
      `timer seq 2 until ${new Date(Date.parse(atOf(1)) + 2_000).toISOString()}`,
      'session on "files" (seq 3)',
      `timer seq 4 until ${new Date(Date.parse(atOf(1)) + 250).toISOString()}`,
      'signal "never"',
    ]);
  });

  it("rejects invalid arguments at once with a TypeError or RangeError, using no seq", async () => {
    const activation = await replayFully(async (ctx) => {
      const errors = [
        await rejectionOf(ctx.activity("a", 1, { startToCloseTimeout: "soon" })),
        await rejectionOf(ctx.activity("no spaces allowed")),
        await rejectionOf(ctx.activity("a", { big: 1n })),
        await rejectionOf(ctx.sleep("forever")),
        await rejectionOf(ctx.sleep(-1)),
      ].map((error) => (error as Error).name);
      await ctx.activity("b");
      return errors;
    }, history().started().events);
    expect(activation.commands).toEqual([{ kind: "scheduleActivity", seq: 1, type: "b" }]);
  });
});

describe("replay", () => {
  it("replays a finished prefix and answers with the next commands, seeing up to the last event", async () => {
    const h = history().started({ name: "a.csv" }).marker().scheduled(1, "download").completed(1, { path: "/tmp/a.csv" });
    expect(await replayFully(fileFlow, h.events)).toEqual({
      commands: [{ kind: "scheduleActivity", seq: 2, type: "process", input: { path: "/tmp/a.csv" } }],
      seenUpTo: 4,
      blockedOn: ['activity "process" (seq 2)'],
      closes: false,
    });
  });

  it("a cached continuation answers as a full replay of the same history does, at every step", async () => {
    const sim = new Simulation(async (ctx, input: { n: number }) => {
      const [a, b] = await Promise.all([ctx.activity<number>("double", input.n), ctx.activity<number>("square", input.n)]);
      await ctx.sleep("1m");
      const approval = await ctx.signal<{ by: string }>("approve");
      return { sum: a + b, by: approval.by, at: ctx.now().toISOString() };
    }, { n: 3 });
    expect((await sim.step()).commands).toEqual([
      { kind: "scheduleActivity", seq: 1, type: "double", input: 3 },
      { kind: "scheduleActivity", seq: 2, type: "square", input: 3 },
    ]);
    sim.h.completed(2, 9);
    expect((await sim.step()).commands).toEqual([]);
    sim.h.completed(1, 6);
    expect((await sim.step()).commands).toEqual([{ kind: "startTimer", seq: 3, durationMs: 60_000 }]);
    sim.h.fired(3);
    const waiting = await sim.step();
    expect(waiting).toMatchObject({ commands: [], blockedOn: ['signal "approve"'] });
    sim.h.signal("approve", { by: "ada" });
    const done = await sim.step();
    expect(done).toEqual({
      commands: [{ kind: "completeWorkflow", result: { sum: 15, by: "ada", at: atOf(done.seenUpTo) } }],
      seenUpTo: sim.h.lastId - 2,
      blockedOn: [],
      closes: true,
    });
  });

  it("applies events that arrived while a task ran (before its marker) in the next activation, cached or replayed", async () => {
    const sim = new Simulation(async (ctx) => {
      const first = ctx.activity<string>("a");
      const second = ctx.activity<string>("b");
      const x = await first;
      const y = await second;
      return x + y;
    });
    await sim.step((h) => h.completed(1, "x").completed(2, "y"));
    // The events 2 and 3 lie before marker 4, past its seenUpTo (1).
    expect(sim.h.events.map((event) => event.kind).slice(0, 4)).toEqual(["workflow.started", "activity.completed", "activity.completed", "workflowTask.completed"]);
    const done = await sim.step();
    expect(done.commands).toEqual([{ kind: "completeWorkflow", result: "xy" }]);
  });

  it("answers ctx.now() with the time of the last event the activation saw, and the same random numbers on every replay", async () => {
    const sim = new Simulation(
      async (ctx) => {
        const before = { now: ctx.now().toISOString(), random: ctx.random() };
        await ctx.activity("a");
        return { before, now: ctx.now().toISOString(), random: ctx.random(), uuid: ctx.uuid() };
      },
      undefined,
      7,
    );
    await sim.step();
    sim.h.signal("noise").completed(1);
    const done = await sim.step();
    const result = (done.commands[0] as { result: { before: { now: string; random: number }; now: string; random: number; uuid: string } }).result;
    expect(result.before.now).toBe(atOf(1));
    expect(result.now).toBe(atOf(done.seenUpTo));
    expect(result.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.random).toBeGreaterThanOrEqual(0);
    expect(result.random).toBeLessThan(1);
    expect(result.random).not.toBe(result.before.random);
    // Another seed draws other numbers.
    const other = await replayFully(async (ctx) => ctx.random(), history().started(undefined, 8).events);
    const same = await replayFully(async (ctx) => ctx.random(), history().started(undefined, 7).events);
    expect((other.commands[0] as { result: number }).result).not.toBe((same.commands[0] as { result: number }).result);
    expect((same.commands[0] as { result: number }).result).toBe(result.before.random);
  });

  it("rejects a history that does not begin with workflow.started, or whose events are out of order", async () => {
    await expect(replayFully(fileFlow, history().signal("x").events)).rejects.toBeInstanceOf(InvalidHistoryError);
    const shuffled = history().started().signal("a").signal("b").events.reverse();
    await expect(replayFully(fileFlow, shuffled)).rejects.toBeInstanceOf(InvalidHistoryError);
  });
});

describe("nondeterminism", () => {
  // Recorded by a version that ran download, then process after a 2 s timer.
  const recorded = () =>
    history().started({ name: "a" }).marker().scheduled(1, "download").completed(1, "p").marker().scheduled(2, "process").completed(2, "q").marker().add({ kind: "workflow.completed", result: "q" });

  async function mismatch(workflow: Workflow, h = recorded()): Promise<string> {
    const error = await rejectionOf(replayFully(workflow, h.events));
    expect(error).toBeInstanceOf(NondeterminismError);
    return (error as Error).message;
  }

  it("names a different command at the first mismatch", async () => {
    const message = await mismatch(async (ctx) => {
      await ctx.activity("download");
      await ctx.sleep("2s");
    });
    expect(message).toBe('nondeterminism: at command 2 history has activity "process" (seq 2) but the code issued timer of 2000 ms (seq 2)');
  });

  it("names another activity type at the same seq", async () => {
    const message = await mismatch(async (ctx) => {
      await ctx.activity("fetch");
    });
    expect(message).toBe('nondeterminism: at command 1 history has activity "download" (seq 1) but the code issued activity "fetch" (seq 1)');
  });

  it("names a missing command", async () => {
    const message = await mismatch(async (ctx) => {
      await ctx.activity("download");
      await ctx.signal("wait");
    });
    expect(message).toBe('nondeterminism: at command 2 history has activity "process" (seq 2) but the code issued no command');
  });

  it("names an extra command", async () => {
    const message = await mismatch(async (ctx) => {
      await ctx.activity("download");
      const processed = ctx.activity("process");
      void ctx.activity("audit");
      return processed;
    });
    expect(message).toBe('nondeterminism: at command 3 history has no command but the code issued activity "audit" (seq 3)');
  });

  it("names a failure where history completed the workflow", async () => {
    const message = await mismatch(async (ctx) => {
      await ctx.activity("download");
      await ctx.activity("process");
      throw new Error("changed my mind");
    });
    expect(message).toBe("nondeterminism: at command 3 history has workflow completion but the code issued workflow failure");
  });

  it("names a session on another queue", async () => {
    const h = history().started().marker().sessionRequested(1, "files");
    const message = await mismatch(async (ctx) => {
      await ctx.createSession({ queue: "videos" });
    }, h);
    expect(message).toBe('nondeterminism: at command 1 history has session on "files" (seq 1) but the code issued session on "videos" (seq 1)');
  });

  it("accepts other inputs for the same commands (inputs are data, not control flow)", async () => {
    const activation = await replayFully(async (ctx) => {
      await ctx.activity("download", { other: true });
      return ctx.activity("process", { changed: 1 });
    }, recorded().events);
    expect(activation.commands).toEqual([]);
  });
});

describe("signals", () => {
  it("buffers signals that arrive before the code asks, per name and in arrival order", async () => {
    const sim = new Simulation(async (ctx) => {
      await ctx.activity("a");
      const first = await ctx.signal("go");
      const other = await ctx.signal("stop");
      const second = await ctx.signal("go");
      return [first, other, second];
    });
    await sim.step();
    sim.h.signal("go", 1).signal("stop", "s").signal("go", 2).completed(1);
    expect((await sim.step()).commands).toEqual([{ kind: "completeWorkflow", result: [1, "s", 2] }]);
  });

  it("delivers a signal to the code waiting for it", async () => {
    const sim = new Simulation(async (ctx) => ({ got: await ctx.signal("go") }));
    expect((await sim.step()).blockedOn).toEqual(['signal "go"']);
    sim.h.signal("other", 0).signal("go", { n: 1 });
    expect((await sim.step()).commands).toEqual([{ kind: "completeWorkflow", result: { got: { n: 1 } } }]);
  });
});

describe("activity failures and workflow failures", () => {
  it("rejects with ActivityFailedError carrying the end state and the task's error", async () => {
    const sim = new Simulation(async (ctx) => {
      try {
        await ctx.activity("flaky");
      } catch (error) {
        if (!(error instanceof ActivityFailedError)) throw error;
        return { name: error.name, state: error.state, type: error.errorType, message: error.errorMessage, seq: error.seq, activity: error.activityType };
      }
    });
    await sim.step();
    sim.h.activityFailed(1, "timed_out", "StartToCloseTimeout", "attempt 3 ran out of time");
    expect((await sim.step()).commands).toEqual([
      { kind: "completeWorkflow", result: { name: "ActivityFailedError", state: "timed_out", type: "StartToCloseTimeout", message: "attempt 3 ran out of time", seq: 1, activity: "flaky" } },
    ]);
  });

  it("fails the workflow with {type: error.name, message} when the function throws", async () => {
    const thrown = await replayFully(async () => {
      throw new TypeError("bad input");
    }, history().started().events);
    expect(thrown).toEqual({ commands: [{ kind: "failWorkflow", error: { type: "TypeError", message: "bad input" } }], seenUpTo: 1, blockedOn: [], closes: true });
    const sim = new Simulation(async (ctx) => ctx.activity("a"));
    await sim.step();
    sim.h.activityFailed(1, "failed", "Boom", "it broke");
    expect((await sim.step()).commands).toEqual([
      { kind: "failWorkflow", error: { type: "ActivityFailedError", message: 'activity "a" (seq 1) ended failed: Boom: it broke' } },
    ]);
  });

  it("fails the workflow when its result is not JSON", async () => {
    const activation = await replayFully(async () => ({ big: 1n }), history().started().events);
    expect(activation.commands).toEqual([{ kind: "failWorkflow", error: { type: "TypeError", message: expect.stringContaining("the workflow's result is not JSON") } }]);
  });

  it("lets a dropped activity promise reject without an unhandled rejection", async () => {
    const sim = new Simulation(async (ctx) => {
      void ctx.activity("ignored");
      await ctx.activity("awaited");
      return "done";
    });
    await sim.step();
    sim.h.activityFailed(1).completed(2);
    expect((await sim.step()).commands).toEqual([{ kind: "completeWorkflow", result: "done" }]);
  });
});

describe("sessions", () => {
  it("resolves createSession at session.created; its activities name the session; complete() issues completeSession once", async () => {
    const sim = new Simulation(async (ctx) => {
      const session = await ctx.createSession({ queue: "files" });
      const result = await session.activity("download", { name: "a" }, { startToCloseTimeout: "1m" });
      session.complete();
      session.complete();
      return { result, worker: session.worker, workerQueue: session.workerQueue, seq: session.seq };
    });
    expect(await sim.step()).toMatchObject({ commands: [{ kind: "createSession", seq: 1, options: { queue: "files" } }], blockedOn: ['session on "files" (seq 1)'] });
    sim.h.sessionCreated(1, "w1");
    expect(await sim.step()).toMatchObject({
      commands: [{ kind: "scheduleActivity", seq: 2, type: "download", input: { name: "a" }, options: { startToCloseTimeout: "1m" }, session: 1 }],
      blockedOn: ['activity "download" (seq 2) in session seq 1'],
    });
    sim.h.completed(2, "ok");
    expect((await sim.step()).commands).toEqual([
      { kind: "completeSession", seq: 1 },
      { kind: "completeWorkflow", result: { result: "ok", worker: "w1", workerQueue: "files@worker:w1", seq: 1 } },
    ]);
  });

  it("rejects pending session activities with SessionFailedError when the session fails, and later ones at once without a command", async () => {
    const sim = new Simulation(async (ctx) => {
      const session = await ctx.createSession({ queue: "files" });
      const first = session.activity("download");
      const second = session.activity("process");
      const errors = [await rejectionOf(first), await rejectionOf(second), await rejectionOf(session.activity("upload"))];
      session.complete(); // a failed session needs no completion
      return errors.map((error) => [(error as Error).name, (error as SessionFailedError).seq, (error as Error).message]);
    });
    await sim.step();
    sim.h.sessionCreated(1);
    expect((await sim.step()).commands.map((command) => command.kind)).toEqual(["scheduleActivity", "scheduleActivity"]);
    sim.h.sessionFailed(1, "the session's worker w1 stopped heartbeating");
    const message = `session on "files" (seq 1) failed: the session's worker w1 stopped heartbeating`;
    expect((await sim.step()).commands).toEqual([
      {
        kind: "completeWorkflow",
        result: [
          ["SessionFailedError", 1, message],
          ["SessionFailedError", 1, message],
          ["SessionFailedError", 1, message],
        ],
      },
    ]);
  });

  it("rejects createSession when the session fails before a worker takes it, so the code can retry on a new session", async () => {
    const sim = new Simulation(async (ctx) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const session = await ctx.createSession({ queue: "files", creationTimeout: "10s" });
          return { attempt, worker: session.worker };
        } catch (error) {
          if (!(error instanceof SessionFailedError) || attempt >= 3) throw error;
        }
      }
    });
    await sim.step();
    sim.h.sessionFailed(1, "no worker of queue files took the session in time");
    expect((await sim.step()).commands).toEqual([{ kind: "createSession", seq: 2, options: { queue: "files", creationTimeout: "10s" } }]);
    sim.h.sessionCreated(2, "w2");
    expect((await sim.step()).commands).toEqual([{ kind: "completeWorkflow", result: { attempt: 2, worker: "w2" } }]);
  });
});

describe("cached executions", () => {
  it("refuse to continue past a workflow task another worker answered", async () => {
    const workflow: Workflow = async (ctx) => {
      await ctx.activity("a");
      await ctx.activity("b");
      await ctx.activity("c");
    };
    const h = history().started();
    const cached = new ExecutionReplay("wf-1", "wf", workflow);
    h.recordAnswer(await cached.advance(h.events, { continuing: false }));
    h.completed(1);
    h.recordAnswer(await replayFully(workflow, h.events)); // another worker's answer
    h.completed(2);
    await expect(cached.advance(h.after(cached.seenUpTo), { continuing: true })).rejects.toBeInstanceOf(CachedStateMismatch);
  });

  it("refuse to continue when the history lacks their last answer", async () => {
    const cached = new ExecutionReplay("wf-1", "wf", fileFlow);
    const h = history().started({ name: "a" });
    await cached.advance(h.events, { continuing: false });
    h.signal("unrelated");
    await expect(cached.advance(h.after(cached.seenUpTo), { continuing: true })).rejects.toBeInstanceOf(CachedStateMismatch);
  });

  it("record code that used ctx between activations (it awaited something that is not a ctx promise)", async () => {
    const gate = deferred();
    const replay = new ExecutionReplay("wf-1", "wf", async (ctx) => {
      await gate.promise;
      await ctx.activity("late");
    });
    const activation = await replay.advance(history().started().events, { continuing: false });
    expect(activation.commands).toEqual([]);
    expect(replay.execution.misuse).toBeUndefined();
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(replay.execution.misuse).toContain('the workflow code called ctx.activity("late") while it was not being run by the worker');
  });
});
