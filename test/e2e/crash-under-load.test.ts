/**
 * The durability promise under load, through the compiled binary: producers enqueue without
 * pause, two workers drain, and the daemon is killed with `kill -9` again and again, each time
 * with commits, staged dispatch records, patient acknowledgements and a backlog beyond its
 * memory budget in flight. Every task whose enqueue was acknowledged must end completed, and
 * every task the store holds must have run (at least once: a completion the crash cut off runs
 * its task again).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, startDaemon, startTqd, type TqdProcess } from "../support/tqd-process.ts";

const HANDLERS = resolve(import.meta.dirname, "fixtures/crash-handlers.ts");
const QUEUE = "crash";
/** Small, so most of the backlog waits in the store and is read back in as it drains. */
const MEMORY_BACKLOG = ["--memory-backlog", "200"];
const KILLS = 3;
/** Acknowledged enqueues between two kills. */
const ACKED_PER_ROUND = 4_000;

interface QueueCounts {
  name: string;
  scheduled: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
}

describe("kill -9 of the daemon under load (binary)", () => {
  test("every acknowledged task completes, and every stored task ran", { timeout: 90_000 }, async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    const runLog = join(dir.path, "ran.log");
    const processes: TqdProcess[] = [];
    try {
      const first = await startDaemon(data, MEMORY_BACKLOG);
      processes.push(first);
      const url = first.url;
      let daemon: TqdProcess = first;
      for (const n of [1, 2]) {
        const worker = startTqd(["work", HANDLERS, "--queue", QUEUE, "--concurrency", "8", "--identity", `crash-${n}`, "--server", url, "--poll-wait", "1s"]);
        processes.push(worker);
        await worker.waitForOutput(/worker started/);
      }

      const acked = new Set<string>();
      let producing = true;
      const produce = async (producer: number) => {
        for (let call = 0; producing; call++) {
          // Sizes 1-40, so single enqueues and batches both meet the kills.
          const ids = Array.from({ length: 1 + ((call * 7 + producer) % 40) }, (_, i) => `p${producer}-${call}-${i}`);
          const tasks = ids.map((id) => ({ type: "record", id, input: { runLog } }));
          try {
            const response =
              ids.length === 1
                ? await fetch(`${url}/v1/queues/${QUEUE}/tasks`, { method: "POST", body: JSON.stringify(tasks[0]) })
                : await fetch(`${url}/v1/queues/${QUEUE}/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks }) });
            await response.arrayBuffer();
            if (response.status === 200 || response.status === 201) for (const id of ids) acked.add(id);
          } catch {
            // The daemon is down: this call was not acknowledged; try the next one shortly.
            await new Promise((resolveWait) => setTimeout(resolveWait, 10));
          }
        }
      };
      const producers = [0, 1, 2].map(produce);

      const port = new URL(url).port;
      for (let kill = 1; kill <= KILLS; kill++) {
        await eventually(() => (acked.size >= kill * ACKED_PER_ROUND ? true : undefined), `${kill * ACKED_PER_ROUND} acknowledged enqueues`, 30_000);
        daemon.kill("SIGKILL");
        await daemon.exited;
        // The same address, so the workers and producers find it again.
        daemon = startTqd(["serve", "--listen", `127.0.0.1:${port}`, "--data", data, ...MEMORY_BACKLOG]);
        processes.push(daemon);
        await daemon.waitForOutput(/tqd serving/);
      }
      producing = false;
      await Promise.all(producers);

      const counts = await eventually(async () => {
        const { queues } = (await (await fetch(`${url}/v1/queues`)).json()) as { queues: QueueCounts[] };
        const queue = queues.find((entry) => entry.name === QUEUE);
        return queue && queue.scheduled + queue.pending + queue.running === 0 ? queue : undefined;
      }, "the queue drained", 60_000);
      const ran = new Set(readFileSync(runLog, "utf8").trim().split("\n"));
      const lost = [...acked].filter((id) => !ran.has(id));
      expect(lost).toEqual([]);
      expect(counts.failed).toBe(0);
      // Stored tasks are the acknowledged ones plus any whose answer the kill cut off.
      expect(counts.completed).toBeGreaterThanOrEqual(acked.size);
      expect(ran.size).toBe(counts.completed);
      for (const id of [...acked].slice(0, 50)) {
        const task = (await (await fetch(`${url}/v1/tasks/${id}`)).json()) as { state: string };
        expect(task.state, id).toBe("completed");
      }
    } finally {
      for (const child of processes) await child[Symbol.asyncDispose]();
    }
  });
});
