/**
 * W2 round trip: an idle worker is polling; sequential enqueue -> completion observed, over HTTP
 * (`W2`) and then, on a fresh daemon, from a client on the stream (`W2-stream`). Then
 * `W2-idle`: the same round over HTTP, but a task now and then (0.3-1.1 s apart) to a worker
 * that is idle in between, as a worker at `--concurrency 1` mostly is: its one slot takes turns
 * between the base queue and its host and worker queues, and a task must not wait for the
 * others' polls (it waited up to 2 s before the host and worker queues' turns became looks).
 * Last `W2-workflow`: workflows of WORKFLOW_STEPS activities on such a worker, each next
 * workflow task sticky (on its worker queue), so a step's task waits for no other queue's
 * poll (the base queue's parked poll yields to it).
 */
import type { BenchOptions } from "../support/options.ts";
import { round, type Report } from "../support/report.ts";
import { enqueueOne, enqueueOneOverStream, post, streamProducer } from "../support/tqd-api.ts";
import { withDaemon } from "../support/tqd-process.ts";
import { spawnNoopWorker, spawnWorkflowWorker } from "../support/worker-drain.ts";

const WARMUP_ROUNDS = 5;

export async function runRoundTrip(options: BenchOptions, report: Report): Promise<void> {
  for (const transport of ["http", "stream"] as const) report.add(await roundTrip(options.w2Rounds, transport));
  report.add(await idleRounds(options.w2IdleRounds));
  report.add(await workflowRounds(options.w2Workflows));
}

const WORKFLOW_STEPS = 6;

/** W2-workflow: sequential `chain` workflows of WORKFLOW_STEPS steps at `--concurrency 1`, start to close. */
async function workflowRounds(workflows: number) {
  return withDaemon(async ({ url }) => {
    const worker = spawnWorkflowWorker(url, "w2-workflow", 1);
    const run = async () => {
      const { id } = (await post(`${url}/v1/workflows`, { type: "chain", queue: "w2-workflow", input: { n: WORKFLOW_STEPS } })) as { id: string };
      const closed = (await (await fetch(`${url}/v1/workflows/${id}?waitMs=60000`)).json()) as { state: string };
      if (closed.state !== "completed") throw new Error(`a workflow ended ${closed.state}`);
    };
    try {
      await run(); // the worker's first workflow, not counted
      const samples: number[] = [];
      for (let i = 0; i < workflows; i++) {
        const start = performance.now();
        await run();
        samples.push(performance.now() - start);
      }
      const all = quantiles(samples);
      return { id: "W2-workflow", workload: `W2 workflows of ${WORKFLOW_STEPS} activities on one worker at concurrency 1`, workflows, p50Ms: all(0.5), maxMs: all(1), p50PerStepMs: round(all(0.5) / WORKFLOW_STEPS) };
    } finally {
      await worker.stop();
    }
  });
}

/** W2-idle: rounds 0.3-1.1 s apart (seeded, so runs are alike), each timed on its own. */
async function idleRounds(rounds: number) {
  return withDaemon(async ({ url }) => {
    const worker = spawnNoopWorker(url, "w2-idle", 1);
    try {
      await new Promise((r) => setTimeout(r, 500));
      await roundOverHttp(url, "w2-idle"); // the first task of a fresh worker, not counted
      let seed = 1;
      const gapMs = () => 300 + ((seed = (seed * 48271) % 2147483647) % 800);
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        await new Promise((r) => setTimeout(r, gapMs()));
        const start = performance.now();
        const state = await roundOverHttp(url, "w2-idle");
        if (state !== "completed") throw new Error(`a task ended ${state}`);
        samples.push(performance.now() - start);
      }
      const all = quantiles(samples);
      return { id: "W2-idle", workload: "W2 round trip to a worker idle in between (concurrency 1, 0.3-1.1 s apart)", rounds, p50Ms: all(0.5), maxMs: all(1) };
    } finally {
      await worker.stop();
    }
  });
}

/** One round over HTTP: enqueue, then a waiting read of the task. */
async function roundOverHttp(url: string, queue = "w2"): Promise<string> {
  const id = await enqueueOne(url, queue);
  return ((await (await fetch(`${url}/v1/tasks/${id}?waitMs=10000`)).json()) as { state: string }).state;
}

async function roundTrip(rounds: number, transport: "http" | "stream") {
  return withDaemon(async ({ url }) => {
    const worker = spawnNoopWorker(url, "w2", 1);
    const producer = transport === "stream" ? streamProducer(url) : undefined;
    const round = producer
      ? async () => (await producer.getTask(await enqueueOneOverStream(producer, "w2"), { waitMs: 10_000 })).state
      : () => roundOverHttp(url);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const samples: number[] = [];
      for (let i = 0; i < rounds + WARMUP_ROUNDS; i++) {
        const start = performance.now();
        const state = await round();
        if (state !== "completed") throw new Error(`a task ended ${state}`);
        if (i >= WARMUP_ROUNDS) samples.push(performance.now() - start);
      }
      // The JIT is still compiling the round's path in three processes well after the first 5
      // rounds (a third of the rounds over 3 ms fell in the first 0.3 s), so the same rounds
      // are also summarized without the first quarter: the latency of a daemon that runs.
      const steady = quantiles(samples.slice(Math.floor(samples.length / 4)));
      const all = quantiles(samples);
      return {
        id: producer ? "W2-stream" : "W2",
        workload: `W2 round trip (enqueue -> completion observed)${producer ? ", over the stream" : ""}`,
        rounds,
        p50Ms: all(0.5),
        p99Ms: all(0.99),
        maxMs: all(1),
        steadyP50Ms: steady(0.5),
        steadyP99Ms: steady(0.99),
      };
    } finally {
      producer?.close();
      await worker.stop();
    }
  });
}

/** The q-quantile (0..1) of the samples, rounded for the report. */
function quantiles(samples: number[]): (q: number) => number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (q) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}
