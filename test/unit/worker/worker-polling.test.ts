import { describe, expect, it } from "vitest";
import { TqdApiError } from "../../../lib/client/index.ts";
import { IDLE_TURN_MS, POLL_RETURN_MS, RELEASE_TIMEOUT_MS, SHARED_POLL_WAIT_MS, TaskAbortedError, type TaskContext } from "../../../lib/worker/index.ts";
import type { SettleItemResult } from "../../../lib/protocol/index.ts";
import type { PollCall } from "./fake-worker-client.ts";
import { deferred, setup, type WorkerTestBundle } from "./worker-test-bundle.ts";

// One macrotask turn: lets every pending promise job run, to show that nothing further happens.
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The next poll of `queue` sent after this call (polls already sent do not count). */
async function nextPollOf(b: WorkerTestBundle, queue: string): Promise<PollCall> {
  const sent = b.client.allPolls.calls.length;
  await b.client.allPolls.until(() => b.client.allPolls.calls.slice(sent).some((call) => call.queue === queue));
  return b.client.allPolls.calls.slice(sent).find((call) => call.queue === queue)!;
}

describe("worker polling", () => {
  it("asks for one task while idle, and for the free slots once a poll brought tasks, naming its types", async () => {
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const b = setup({ resize: () => gates[started++]!.promise, crop: async () => {} }, { concurrency: 5 });
    await b.worker.start();
    const first = await b.client.polls.next();
    expect(first.queue).toBe("q");
    expect(first.request).toEqual({ identity: "test-worker", host: "test-host", types: ["resize", "crop"], max: 1, waitMs: 30_000 });
    first.answer([b.aLeasedTask({ type: "resize" })]);
    // 5 slots: one runs the task, the parked polls of the host and worker queues hold one each.
    const second = await b.client.polls.next();
    expect(second.request).toMatchObject({ max: 2, waitMs: SHARED_POLL_WAIT_MS });
    second.answer([b.aLeasedTask({ type: "resize" }), b.aLeasedTask({ type: "resize" })]);
    await settle();
    expect(b.client.polls.calls).toHaveLength(2); // every slot is busy: no poll
    gates[0]!.resolve();
    const third = await b.client.polls.next();
    expect(third.request.max).toBe(1);
    expect(b.client.completes.calls).toHaveLength(1);
    gates.forEach((gate) => gate.resolve());
    expect(await b.worker.stop()).toEqual({ abandoned: 0 });
  });

  it("lets tasks that end at once free their slots before the next poll, so it asks for those too", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 8 });
    b.client.acceptBatches(undefined, { ordered: true });
    await b.worker.start();
    const first = await nextPollOf(b, "q");
    const second = nextPollOf(b, "q");
    first.answer([b.aLeasedTask(), b.aLeasedTask()]);
    // 8 slots, the parked polls of the host and worker queues hold one each: the two tasks
    // ended and were acknowledged before this poll, so it asks for all 6 (not 4).
    expect((await second).request.max).toBe(6);
    expect(b.client.batches.calls).toHaveLength(1);
    await b.worker.stop();
  });

  it("over HTTP (acknowledgements free slots when answered), polls again at once with the slots free", async () => {
    const answers: ReturnType<typeof deferred<SettleItemResult[]>>[] = [];
    const b = setup({ t: async () => "done" }, { concurrency: 8 });
    b.client.acceptBatches(async () => {
      const answer = deferred<SettleItemResult[]>();
      answers.push(answer);
      return answer.promise;
    });
    await b.worker.start();
    const first = await nextPollOf(b, "q");
    const pollsOfQ = () => b.client.allPolls.calls.filter((call) => call.queue === "q");
    first.answer([b.aLeasedTask(), b.aLeasedTask()]);
    // In the turn of the answer (over the stream it would wait two turns for the outcomes):
    // the two tasks hold their slots until their batch is answered, so it asks for the 4 free.
    await new Promise((resolve) => setImmediate(resolve));
    expect(pollsOfQ()).toHaveLength(2);
    expect(pollsOfQ()[1]!.request.max).toBe(4);
    await b.client.batches.until(() => answers.length === 1);
    answers[0]!.resolve(b.client.batches.calls[0]!.items.map((item) => ({ id: item.id, state: "completed" })));
    await b.worker.stop();
  });

  it("polls each queue's host queue and worker queue too, and names them in ctx", async () => {
    const seen: TaskContext[] = [];
    const b = setup({ t: async (_input, ctx) => void seen.push(ctx) }, { queues: ["files", "mail"], host: "web-1", identity: "web-1:42" });
    await b.worker.start();
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 4);
    expect(b.client.openPolls.map((call) => call.queue).sort()).toEqual(["files", "mail"]);
    expect(b.client.openOwnPolls.map((call) => call.queue).sort()).toEqual(["files@host:web-1", "files@worker:web-1:42", "mail@host:web-1", "mail@worker:web-1:42"]);
    for (const call of b.client.openOwnPolls) expect(call.request).toMatchObject({ identity: "web-1:42", host: "web-1", max: 1, waitMs: 30_000 });
    b.client.openOwnPolls.find((call) => call.queue === "files@host:web-1")!.answer([b.aLeasedTask({ queue: "files@host:web-1", headers: { tenant: "acme" } })]);
    b.client.openPolls.find((call) => call.queue === "mail")!.answer([b.aLeasedTask({ queue: "mail" })]);
    await b.client.completes.until(() => b.client.completes.calls.length === 2);
    const byQueue = Object.fromEntries(seen.map((ctx) => [ctx.queue, ctx]));
    expect(byQueue["files@host:web-1"]).toMatchObject({ hostQueue: "files@host:web-1", workerQueue: "files@worker:web-1:42", headers: { tenant: "acme" } });
    expect(byQueue["mail"]).toMatchObject({ hostQueue: "mail@host:web-1", workerQueue: "mail@worker:web-1:42", headers: {} });
    await b.worker.stop();
  });

  it("keeps an idle host queue's parked poll to one slot, so the base queue gets the rest", async () => {
    const gate = deferred();
    const b = setup({ t: () => gate.promise }, { concurrency: 10 });
    await b.worker.start();
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 2);
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const burst = await b.client.polls.next();
    expect(burst.request).toMatchObject({ max: 7, waitMs: SHARED_POLL_WAIT_MS }); // 10 - 1 running - 2 parked
    burst.answer(Array.from({ length: 7 }, () => b.aLeasedTask()));
    await settle();
    expect(b.worker.runningTasks).toBe(8);
    expect(b.client.openPolls).toHaveLength(0); // all slots busy
    expect(b.client.openOwnPolls.map((call) => call.request.max)).toEqual([1, 1]);
    gate.resolve();
    await b.worker.stop();
  });

  it("still serves the host queue when the base queue has taken every shared slot", async () => {
    const gate = deferred();
    const b = setup({ t: () => gate.promise, step: async () => "ran here" }, { concurrency: 4 });
    await b.worker.start();
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 2);
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    (await b.client.polls.next()).answer([b.aLeasedTask()]); // the one shared slot
    await settle();
    expect(b.client.openPolls).toHaveLength(0);
    const hostPoll = b.client.openOwnPolls.find((call) => call.queue === "q@host:test-host")!;
    hostPoll.answer([b.aLeasedTask({ queue: "q@host:test-host", type: "step" })]);
    await b.client.completes.until(() => b.client.completes.calls.length === 1);
    // Its slot came back to it, not to the waiting base queue: the host queue polls again.
    await b.client.ownPolls.until(() => b.client.openOwnPolls.length === 2);
    expect(b.client.openPolls).toHaveLength(0);
    gate.resolve();
    await b.worker.stop();
  });

  it("gives a slot back from a busy queue's poll within a second when the queue has gone quiet", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 10, queues: ["a", "b"] });
    await b.worker.start();
    await b.client.polls.until(() => b.client.openPolls.length === 2);
    const answered = nextPollOf(b, "a");
    b.client.openPolls.find((call) => call.queue === "a")!.answer([b.aLeasedTask({ queue: "a" })]);
    const busy = await answered;
    expect(busy.request.waitMs).toBe(SHARED_POLL_WAIT_MS); // holds shared slots
    await b.client.completes.next(); // the task gave its slot back
    const quiet = nextPollOf(b, "a");
    busy.answer([]);
    const idle = await quiet;
    expect(idle.request).toMatchObject({ max: 1, waitMs: 30_000 }); // back to its own slot
    await b.worker.stop();
  });

  it("lets a busy queue take at most its share of the slots while another queue is busy too", async () => {
    const gate = deferred();
    const b = setup({ t: () => gate.promise }, { concurrency: 20, queues: ["a", "b"] });
    await b.worker.start();
    await b.client.allPolls.until(() => b.client.openPolls.length + b.client.openOwnPolls.length === 6);
    const pollsOf = (queue: string) => b.client.openPolls.find((call) => call.queue === queue)!;
    let next = nextPollOf(b, "a");
    pollsOf("a").answer([b.aLeasedTask({ queue: "a" })]);
    const burstA = await next;
    expect(burstA.request.max).toBe(14); // alone busy: every shared slot (20 - 1 running - 5 parked)
    next = nextPollOf(b, "b");
    pollsOf("b").answer([b.aLeasedTask({ queue: "b" })]);
    await settle();
    burstA.answer([]); // a went quiet; b, busy too, was waiting for its share
    const burstB = await next;
    expect(burstB.request.max).toBe(10); // ceil(20 / 2 busy queues)
    gate.resolve();
    await b.worker.stop();
  });

  it("with fewer slots than poll loops, serves a busy queue first but polls an idle one within IDLE_TURN_MS", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 1 });
    await b.worker.start();
    (await b.client.allPolls.next()).answer([b.aLeasedTask()]);
    const busy = await b.client.allPolls.next();
    expect(busy.queue).toBe("q"); // busy: ahead of the idle host and worker queues
    await b.clock.advance(IDLE_TURN_MS);
    busy.answer([b.aLeasedTask()]);
    expect((await b.client.allPolls.next()).queue).toBe("q@host:test-host"); // waited long enough
    await b.worker.stop();
  });

  it("with fewer slots than poll loops, lets the loops take turns: short polls on the base queue, looks elsewhere", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 1 });
    await b.worker.start();
    const turns: { queue: string; waitMs: number | undefined; yieldTo: string[] | undefined }[] = [];
    for (let turn = 0; turn < 4; turn++) {
      const call = await b.client.allPolls.next();
      expect(call.request.max).toBe(1);
      expect(b.client.openPolls.length + b.client.openOwnPolls.length).toBe(1);
      turns.push({ queue: call.queue, waitMs: call.request.waitMs, yieldTo: call.request.yieldTo });
      call.answer([]);
    }
    // A parked poll on the host or worker queue would hold the only slot while a task enqueued
    // on the base queue waits for it to time out (up to a second each). The base queue's poll
    // yields to the other two: the server ends it when a task for this worker is ready there.
    const others = ["q@host:test-host", "q@worker:test-worker"];
    expect(turns).toEqual([
      { queue: "q", waitMs: SHARED_POLL_WAIT_MS, yieldTo: others },
      { queue: "q@host:test-host", waitMs: 0, yieldTo: undefined },
      { queue: "q@worker:test-worker", waitMs: 0, yieldTo: undefined },
      { queue: "q", waitMs: SHARED_POLL_WAIT_MS, yieldTo: others },
    ]);
    await b.worker.stop();
  });

  it("with fewer slots than poll loops but the base queue's poll parked, lets the others park too instead of looking back to back", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 2 });
    await b.worker.start();
    const first = await b.client.allPolls.next();
    const second = await b.client.allPolls.next();
    expect([first.queue, second.queue]).toEqual(["q", "q@host:test-host"]);
    expect(first.request).toMatchObject({ waitMs: SHARED_POLL_WAIT_MS, yieldTo: ["q@host:test-host", "q@worker:test-worker"] });
    // No base queue's loop waits for a slot: a look here would hand the slot to the worker
    // queue's look, and back, without end.
    expect(second.request).toMatchObject({ waitMs: SHARED_POLL_WAIT_MS, yieldTo: ["q", "q@worker:test-worker"] });
    second.answer([]);
    expect(await b.client.allPolls.next()).toMatchObject({ queue: "q@worker:test-worker", request: { waitMs: SHARED_POLL_WAIT_MS } });
    await b.worker.stop();
  });

  it("polls without yielding from then on when the server refuses the field (an older daemon)", async () => {
    const b = setup({ t: async () => "done" }, { concurrency: 1 });
    await b.worker.start();
    const first = await b.client.allPolls.next();
    expect(first.request.yieldTo).toHaveLength(2);
    first.refuse(new TqdApiError(400, "invalid_request", "body: Unrecognized key: \"yieldTo\""));
    const turns: string[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const call = await b.client.allPolls.next();
      expect(call.request.yieldTo).toBeUndefined();
      turns.push(`${call.queue} ${call.request.waitMs}`);
      call.answer([]);
    }
    expect(turns).toEqual(["q@host:test-host 0", "q@worker:test-worker 0", `q ${SHARED_POLL_WAIT_MS}`]);
    expect(b.logged("error", "poll failed")).toEqual([]);
    await b.worker.stop();
  });

  it("with fewer slots than poll loops, gives idle queues their turn as looks, then the busy base queue polls again", async () => {
    const b = setup({ t: async () => "done", step: async () => "ran here" }, { concurrency: 1 });
    await b.worker.start();
    (await b.client.allPolls.next()).answer([b.aLeasedTask()]);
    const busy = await b.client.allPolls.next();
    expect(busy.queue).toBe("q");
    await b.clock.advance(IDLE_TURN_MS);
    busy.answer([b.aLeasedTask()]);
    const hostLook = await b.client.allPolls.next();
    expect(hostLook).toMatchObject({ queue: "q@host:test-host", request: { waitMs: 0 } });
    // A look still takes what is there.
    hostLook.answer([b.aLeasedTask({ queue: "q@host:test-host", type: "step" })]);
    const workerLook = await b.client.allPolls.next();
    expect(workerLook).toMatchObject({ queue: "q@worker:test-worker", request: { waitMs: 0 } });
    workerLook.answer([]);
    expect(await b.client.allPolls.next()).toMatchObject({ queue: "q", request: { waitMs: SHARED_POLL_WAIT_MS } });
    expect(b.client.completes.calls).toHaveLength(3);
    await b.worker.stop();
  });

  it("completes the task with the handler's return value, and without a result for undefined", async () => {
    const b = setup({ add: async (input: { a: number; b: number }) => ({ sum: input.a + input.b }), noop: async () => undefined });
    await b.worker.start();
    const sum = b.aLeasedTask({ type: "add", input: { a: 2, b: 3 } });
    const noop = b.aLeasedTask({ type: "noop" });
    (await b.client.polls.next()).answer([sum, noop]);
    await b.client.completes.until(() => b.client.completes.calls.length === 2);
    expect(b.client.completes.calls).toContainEqual({ id: sum.id, leaseToken: sum.leaseToken, result: { sum: 5 } });
    expect(b.client.completes.calls).toContainEqual({ id: noop.id, leaseToken: noop.leaseToken, result: undefined });
    expect(b.logged("info", "task")).toEqual([]); // successes are not logged at info
    await b.worker.stop();
  });

  it("fails the attempt with the thrown error's name and message", async () => {
    class QuotaExceeded extends Error {
      override name = "QuotaExceeded";
    }
    const b = setup({
      send: async () => {
        throw new QuotaExceeded("daily quota of 100 mails used up");
      },
      odd: async () => {
        throw "a bare string";
      },
    });
    await b.worker.start();
    const send = b.aLeasedTask({ type: "send" });
    const odd = b.aLeasedTask({ type: "odd" });
    (await b.client.polls.next()).answer([send, odd]);
    await b.client.fails.until(() => b.client.fails.calls.length === 2);
    expect(b.client.fails.calls).toContainEqual({
      id: send.id,
      leaseToken: send.leaseToken,
      error: { type: "QuotaExceeded", message: "daily quota of 100 mails used up" },
    });
    expect(b.client.fails.calls).toContainEqual({ id: odd.id, leaseToken: odd.leaseToken, error: { type: "Error", message: "a bare string" } });
    expect(b.logged("warn", "task failed")).toHaveLength(2);
    await b.worker.stop();
  });

  it("fails a result that is not JSON instead of crashing", async () => {
    const b = setup({ big: async () => ({ n: 10n }) });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const fail = await b.client.fails.next();
    expect(fail.error.type).toBe("ResultNotSerializable");
    await b.worker.stop();
  });
});

describe("worker shutdown", () => {
  it("stops polling at once, then waits for running handlers within the grace period", async () => {
    const gate = deferred<string>();
    const b = setup({ t: () => gate.promise }, { graceMs: 30_000 });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    const idlePoll = await b.client.polls.next();
    let stopped = false;
    const stopping = b.worker.stop().then((report) => ((stopped = true), report));
    await b.clock.advance(29_000);
    expect(idlePoll.settled).toBe(true); // the leave answered the in-flight long poll
    expect(idlePoll.signal?.aborted).toBe(false);
    expect(stopped).toBe(false);
    gate.resolve("finished late");
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(b.client.completes.calls[0]?.result).toBe("finished late");
    expect(b.client.polls.calls).toHaveLength(2);
    expect(b.logged("info", "worker stopped")).toHaveLength(1);
  });

  it("aborts handlers still running when the grace period ends and leaves them to lease expiry", async () => {
    let seen: TaskContext | undefined;
    const b = setup({ t: (_input, ctx) => ((seen = ctx), new Promise(() => {})) }, { graceMs: 30_000 });
    await b.worker.start();
    const task = b.aLeasedTask();
    (await b.client.polls.next()).answer([task]);
    await b.client.polls.next();
    const stopping = b.worker.stop();
    await b.clock.advance(30_000);
    expect(await stopping).toEqual({ abandoned: 1 });
    expect(seen?.signal.aborted).toBe(true);
    expect(seen?.signal.reason).toBeInstanceOf(TaskAbortedError);
    expect((seen?.signal.reason as TaskAbortedError).kind).toBe("worker-stopped");
    expect(b.client.fails.calls).toEqual([]);
    expect(b.client.completes.calls).toEqual([]);
    expect(b.logged("warn", "task abandoned at shutdown; the server redelivers it when its lease expires")).toHaveLength(1);
  });

  it("gives back, unstarted, the tasks of a poll answered after stop began", async () => {
    let started = 0;
    const b = setup({ t: async () => void started++ });
    b.client.leaveBehaviour = async (call) => ({ ...call, left: true }); // the poll is answered by hand below
    await b.worker.start();
    const poll = await b.client.polls.next();
    const stopping = b.worker.stop();
    await b.client.leaves.until(() => b.client.leaves.calls.length === 3);
    const late = [b.aLeasedTask(), b.aLeasedTask()];
    poll.answer(late);
    expect((await b.client.releases.next()).tasks).toEqual(late.map((task) => ({ id: task.id, leaseToken: task.leaseToken })));
    expect(poll.signal?.aborted).toBe(false);
    await b.clock.advance(POLL_RETURN_MS); // the host and worker queues' polls, never answered, are aborted
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(started).toBe(0);
    expect(b.client.completes.calls).toEqual([]);
  });

  it("runs the late tasks in the drain when the server cannot take them back", async () => {
    const ran: string[] = [];
    const b = setup({ t: async (_input, ctx) => void ran.push(ctx.taskId) });
    b.client.leaveBehaviour = async (call) => ({ ...call, left: true });
    b.client.releaseBehaviour = async (call) => {
      if (call.tasks.length > 1) throw new TqdApiError(404, "not_found", "no route POST /v1/tasks/release");
      return [{ id: call.tasks[0]!.id, error: { code: "conflict", message: "cancellation was requested" } }];
    };
    await b.worker.start();
    const poll = await b.client.polls.next();
    const hostPoll = b.client.openOwnPolls.find((call) => call.queue === "q@host:test-host") ?? (await b.client.ownPolls.next());
    const stopping = b.worker.stop();
    await b.client.leaves.until(() => b.client.leaves.calls.length === 3);
    const late = [b.aLeasedTask(), b.aLeasedTask(), b.aLeasedTask({ queue: "q@host:test-host" })];
    poll.answer(late.slice(0, 2));
    hostPoll.answer(late.slice(2));
    await b.client.releases.until(() => b.client.releases.calls.length === 2);
    await b.clock.advance(POLL_RETURN_MS);
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(ran.sort()).toEqual(late.map((task) => task.id).sort());
    expect(b.client.completes.calls.map((call) => call.id).sort()).toEqual(late.map((task) => task.id).sort());
  });

  it(`runs the late tasks when the server does not answer their release within ${RELEASE_TIMEOUT_MS} ms`, async () => {
    const ran: string[] = [];
    const b = setup({ t: async (_input, ctx) => void ran.push(ctx.taskId) });
    b.client.releaseBehaviour = () => new Promise(() => {});
    await b.worker.start();
    const poll = await b.client.polls.next();
    b.client.leaveBehaviour = async (call) => ({ ...call, left: true });
    const stopping = b.worker.stop();
    const late = b.aLeasedTask();
    poll.answer([late]);
    await b.client.releases.next();
    await b.clock.advance(RELEASE_TIMEOUT_MS);
    await b.clock.advance(POLL_RETURN_MS);
    expect(await stopping).toEqual({ abandoned: 0 });
    expect(ran).toEqual([late.id]);
    expect(b.logged("info", "did not take back tasks that arrived after stop began in time")).toHaveLength(1);
  });

  it("cuts the grace period short when stopped again with graceMs 0", async () => {
    const b = setup({ t: () => new Promise(() => {}) });
    await b.worker.start();
    (await b.client.polls.next()).answer([b.aLeasedTask()]);
    await b.client.polls.next();
    const stopping = b.worker.stop();
    await settle();
    void b.worker.stop({ graceMs: 0 });
    expect(await stopping).toEqual({ abandoned: 1 });
    expect(b.client.fails.calls).toEqual([]);
  });
});
