/**
 * Giving back leased tasks the worker will not run: those a poll brought after stop began (see
 * worker.ts). `POST /v1/tasks/release` makes them pending again at once, the attempt uncounted.
 * What the server does not take back is still leased to this worker, and the caller runs it:
 * a graceful stop leaves no task running on the server with nobody on it.
 */
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask, ReleaseItemResult } from "../protocol/index.ts";
import { describeError } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

/** How long `stop()` waits for the server to take back tasks that arrived after it began. */
export const RELEASE_TIMEOUT_MS = 2_000;

export interface TaskReleaseDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
}

/**
 * Releases `tasks` (all from `queue`); resolves with those still leased to this worker: every
 * one when the request failed or had no answer within RELEASE_TIMEOUT_MS (an older server
 * without the route, say), else those the server refused. A task answered `released: false`
 * is no longer this worker's (its lease expired meanwhile): nothing to run.
 */
export async function releaseUnstarted(tasks: LeasedTask[], queue: string, deps: TaskReleaseDeps): Promise<LeasedTask[]> {
  const { client, log } = deps;
  const fields = { queue, tasks: tasks.length };
  const timeUp = new AbortController();
  const request = client.release(
    tasks.map((task) => ({ id: task.id, leaseToken: task.leaseToken })),
    timeUp.signal,
  );
  const results = await answerWithin(request, RELEASE_TIMEOUT_MS, deps.clock).catch((error: unknown) => {
    log.info("could not give back tasks that arrived after stop began; running them", { ...fields, error: describeError(error) });
    return undefined;
  });
  if (results === "timeout") {
    timeUp.abort();
    log.info("the server did not take back tasks that arrived after stop began in time; running them", { ...fields, timeoutMs: RELEASE_TIMEOUT_MS });
  }
  const answers = typeof results === "object" ? results : undefined;
  const kept = tasks.filter((task, index) => {
    const answer = answers?.[index];
    return answer === undefined || answer.id !== task.id || "error" in answer;
  });
  const released = answers?.filter((answer) => "released" in answer && answer.released).length ?? 0;
  if (released > 0) log.debug("gave back tasks that arrived after stop began", { queue, tasks: released });
  return kept;
}

/** The request's answer, or "timeout" after `ms` (the request may still be running then). */
async function answerWithin(request: Promise<ReleaseItemResult[]>, ms: number, clock: Clock): Promise<ReleaseItemResult[] | "timeout"> {
  const timer = new AbortController();
  try {
    return await Promise.race([request, clock.sleep(ms, timer.signal).then(() => "timeout" as const)]);
  } finally {
    timer.abort();
  }
}
