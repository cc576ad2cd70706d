/**
 * "Why isn't this task running?": one reason for a task that is not running, computed from
 * the queue's live state. Checks run from the most to the least fundamental cause.
 */
import type { QueueState } from "./queue-state.ts";
import { PRIORITY_LEVELS } from "./ready-lines.ts";
import { isFinalState, type TaskRecord } from "./task-state.ts";

export type WaitReason =
  | "delay"
  | "backoff"
  | "paused"
  | "rate_limit"
  | "no_poller"
  | "no_poller_for_type"
  | "priority"
  | "fairness"
  | "ready"
  | "running"
  | "final";

export interface Explanation {
  reason: WaitReason;
  message: string;
  /** Epoch ms when the wait ends, if known. */
  until?: number;
}

export function explainTask(task: TaskRecord, queue: QueueState | undefined, now: number): Explanation {
  const iso = (ms: number) => new Date(ms).toISOString();
  if (isFinalState(task.state)) return { reason: "final", message: `task is ${task.state}${task.finishedAt ? ` since ${iso(task.finishedAt)}` : ""}; it will not run again` };
  if (task.state === "running") {
    return { reason: "running", message: `running attempt ${task.attempt} on ${task.worker ?? "a worker"} since ${iso(task.startedAt ?? now)}` };
  }
  if (task.state === "scheduled") {
    const until = task.runAt ?? now;
    return task.attempt > task.budgetStart
      ? { reason: "backoff", message: `waiting for its retry backoff until ${iso(until)} (attempt ${task.attempt + 1} next)`, until }
      : { reason: "delay", message: `delayed until ${iso(until)}`, until };
  }
  if (!queue) return { reason: "no_poller", message: `no live worker polls queue ${task.queue}` };
  if (queue.paused) return { reason: "paused", message: `queue ${task.queue} is paused (tqd resume ${task.queue})` };
  const pollers = queue.livePollers(now);
  if (pollers.length === 0) return { reason: "no_poller", message: `no live worker polls queue ${task.queue}` };
  if (!pollers.some((poller) => poller.types.includes(task.type))) {
    return { reason: "no_poller_for_type", message: `no live worker on queue ${task.queue} handles type ${task.type} (${pollers.length} poll other types)` };
  }
  const nextToken = queue.nextTokenAt(now);
  if (nextToken !== undefined) {
    const { limit, source } = queue.effectiveLimit(now);
    const what = limit ? `${limit.ratePerSecond}/s (${source})` : "a per-key rate limit";
    return { reason: "rate_limit", message: `rate limit ${what}: next dispatch slot at ${iso(nextToken)}`, until: nextToken };
  }
  const census = queue.pendingCensus();
  const level = Math.min(PRIORITY_LEVELS, Math.max(1, task.priority)) - 1;
  const ahead = census.byLevel.slice(0, level).reduce((sum, n) => sum + n, 0);
  if (ahead > 0) return { reason: "priority", message: `${ahead} task(s) of higher priority are ahead of it` };
  const otherKeys = [...census.byKey.keys()].filter((key) => key !== (task.fairnessKey ?? ""));
  if (otherKeys.length > 0) {
    return { reason: "fairness", message: `waiting for its fairness turn: ${otherKeys.length + 1} keys have backlog (its key: ${task.fairnessKey ?? "(none)"})` };
  }
  const free = pollers.reduce((sum, poller) => sum + (poller.parked > 0 ? poller.freeSlots : 0), 0);
  return {
    reason: "ready",
    message: free > 0 ? "ready: it goes to the next poll" : `ready, in line: ${queue.counts.pending} pending, and every live worker on the queue is busy`,
  };
}
