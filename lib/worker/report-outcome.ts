/**
 * Tells the server how an attempt ended: first in a batch with other outcomes (ack-batcher.ts),
 * then, if the batch gave no definite answer, alone. An unreachable server is retried with backoff for as
 * long as the lease lasts (after that the server has re-queued the task, so the report would be
 * refused anyway); a lost lease is logged, never fatal.
 */
import { TqdApiError, TqdUnreachableError } from "../client/index.ts";
import type { Clock } from "../clock/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask } from "../protocol/index.ts";
import type { AckBatcher } from "./ack-batcher.ts";
import { backoffDelayMs } from "./backoff.ts";
import type { ServerHealth } from "./server-health.ts";
import { describeError, taskError, type TaskOutcome } from "./task-outcome.ts";
import { isLeaseLost, type WorkerClient } from "./worker-client.ts";

export interface ReportDeps {
  client: WorkerClient;
  clock: Clock;
  log: Logger;
  health: ServerHealth;
  random: () => number;
  /** Aborted when the worker stops waiting for reports at shutdown. */
  giveUp: AbortSignal;
  /** Coalesces outcomes into batch requests; absent, each outcome is reported alone. */
  acks?: AckBatcher | undefined;
}

/**
 * Reports `outcome` for `task`; resolves when done or abandoned, never rejects. `onOrdered`
 * runs if the batch carrying the outcome went out on an ordered channel (see worker-client.ts).
 */
export async function reportOutcome(
  task: LeasedTask,
  outcome: TaskOutcome,
  leaseDeadlineMs: () => number,
  deps: ReportDeps,
  onOrdered?: () => void,
): Promise<void> {
  const { clock, log, health } = deps;
  let pending = serializable(outcome);
  if (deps.acks) {
    const verdict = await deps.acks.report(task, pending, onOrdered);
    if (verdict.kind === "settled") {
      health.markReachable();
      return;
    }
    if (verdict.kind === "lease-lost") {
      log.warn("lease lost before the outcome was reported; outcome discarded", { ...fieldsOf(task), error: verdict.message });
      return;
    }
  }
  for (let failures = 0; ; failures++) {
    try {
      await send(deps.client, task, pending);
      health.markReachable();
      return;
    } catch (error) {
      if (error instanceof TqdApiError) health.markReachable();
      if (error instanceof TqdUnreachableError) {
        health.markUnreachable(error);
        if (clock.now() >= leaseDeadlineMs() || deps.giveUp.aborted) {
          log.warn("gave up reporting the task outcome; the server retries the task after its lease", fieldsOf(task));
          return;
        }
        await clock.sleep(backoffDelayMs(failures, deps.random), deps.giveUp);
      } else if (isLeaseLost(error)) {
        log.warn("lease lost before the outcome was reported; outcome discarded", { ...fieldsOf(task), error: describeError(error) });
        return;
      } else if (pending.ok && error instanceof TqdApiError) {
        // e.g. 413: the result is too large. Fail the attempt so the caller learns why.
        pending = { ok: false, error: taskError("ResultRejected", `the server refused the result: ${error.message}`) };
      } else {
        log.error("could not report the task outcome", { ...fieldsOf(task), error: describeError(error) });
        return;
      }
    }
  }
}

function send(client: WorkerClient, task: LeasedTask, outcome: TaskOutcome): Promise<unknown> {
  return outcome.ok
    ? client.complete(task.id, task.leaseToken, outcome.result)
    : client.fail(task.id, task.leaseToken, outcome.error);
}

// A result JSON cannot carry (a BigInt, a cycle) would throw inside the client on every retry.
function serializable(outcome: TaskOutcome): TaskOutcome {
  if (!outcome.ok || outcome.result === undefined) return outcome;
  try {
    JSON.stringify(outcome.result);
    return outcome;
  } catch (error) {
    return { ok: false, error: taskError("ResultNotSerializable", `the handler's result is not JSON: ${describeError(error)}`) };
  }
}

function fieldsOf(task: LeasedTask): Record<string, unknown> {
  return { taskId: task.id, queue: task.queue, type: task.type, attempt: task.attempt };
}
