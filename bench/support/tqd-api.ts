/**
 * The HTTP calls the workloads make, with the client every workload uses: Bun's global fetch
 * (keep-alive), one request at a time per producer. The `-stream` variants of W1 and W3 use the
 * product's client instead (`TqdClient` with `transport: "stream"`), as a producer would.
 */
import { TqdClient } from "../../lib/client/index.ts";

/** The no-op task input: about 100 bytes of JSON, as in the peer harness. */
export const PAYLOAD = { user: "user-000123", action: "send-welcome-email", attempt: 0, note: "x".repeat(40) };
const PAYLOAD_TASK = { type: "noop", input: PAYLOAD };

export async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function enqueueOne(url: string, queue: string): Promise<string> {
  const { id } = (await post(`${url}/v1/queues/${encodeURIComponent(queue)}/tasks`, PAYLOAD_TASK)) as { id: string };
  return id;
}

/** A producer on the stream; close it when done. */
export function streamProducer(url: string): TqdClient {
  return new TqdClient({ baseUrl: url, transport: "stream" });
}

export async function enqueueOneOverStream(producer: TqdClient, queue: string): Promise<string> {
  return (await producer.enqueue(queue, PAYLOAD_TASK)).id;
}

export async function enqueueBatch(url: string, queue: string, count: number): Promise<void> {
  const tasks = Array.from({ length: count }, () => PAYLOAD_TASK);
  await post(`${url}/v1/queues/${encodeURIComponent(queue)}/tasks/batch`, { tasks });
}

/**
 * Enqueues `total` tasks to one queue in batches of `batchSize` from `producers` concurrent
 * producers (each awaiting its call before the next); returns the seconds it took.
 */
export async function enqueueBatched(url: string, queue: string, total: number, batchSize: number, producers: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  const producer = async () => {
    while (next < total) {
      const count = Math.min(batchSize, total - next);
      next += count;
      await enqueueBatch(url, queue, count);
    }
  };
  await Promise.all(Array.from({ length: producers }, producer));
  return (performance.now() - start) / 1000;
}

/** `tqd pause QUEUE`: the queue takes tasks and dispatches none (a worker's polls wait). */
export async function pauseQueue(url: string, queue: string): Promise<void> {
  await post(`${url}/v1/queues/${encodeURIComponent(queue)}/pause`, {});
}

/** `tqd resume QUEUE`: waiting polls are answered at once. */
export async function resumeQueue(url: string, queue: string): Promise<void> {
  await post(`${url}/v1/queues/${encodeURIComponent(queue)}/resume`, {});
}

/** The unlabelled samples of `GET /metrics` (per-queue series are skipped), by name. */
export async function metrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+) ([-\d.e+]+)$/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

/**
 * Tasks scheduled, pending or running in the whole daemon (`tqd_live_tasks`). Read from memory,
 * so a drain loop may ask often without loading the daemon; `GET /v1/queues` would count the
 * finished rows in SQLite on every call.
 */
export async function liveTasks(url: string): Promise<number> {
  const value = (await metrics(url)).tqd_live_tasks;
  if (value === undefined) throw new Error(`${url}/metrics has no tqd_live_tasks`);
  return value;
}

/** Live counts of one queue, from describe (`GET /v1/queues/{queue}`). */
export async function queueCounts(url: string, queue: string): Promise<{ scheduled: number; pending: number; running: number }> {
  const response = await fetch(`${url}/v1/queues/${encodeURIComponent(queue)}`);
  if (!response.ok) throw new Error(`GET ${url}/v1/queues/${queue}: ${response.status} ${await response.text()}`);
  const { counts } = (await response.json()) as { counts: { scheduled: number; pending: number; running: number } };
  return counts;
}
