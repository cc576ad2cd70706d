/**
 * How `tqd queues` shows the queue list.
 * - plain (pipes): one line per queue,
 *   `name pending running completed failed pollersWaiting scheduled canceled timedOut`,
 *   separated by single spaces, no header. The first six columns keep the positions they had
 *   before the task lifecycle added states, so existing `awk '{print $2}'` scripts still read
 *   `pending`; the new counts are appended. Queue names contain no spaces (see lib/protocol
 *   names), so splitting on spaces is safe.
 * - human (TTY): a table with a header, the states in lifecycle order, counts right-aligned.
 */
import type { QueueSummary } from "../../lib/protocol/index.ts";
import { renderTable } from "./text-layout.ts";

type CountColumn = Exclude<keyof QueueSummary, "name">;

/** Plain column order: append new counts at the end, never reorder (scripts index columns). */
export const PLAIN_COUNT_COLUMNS: readonly CountColumn[] = [
  "pending",
  "running",
  "completed",
  "failed",
  "pollersWaiting",
  "scheduled",
  "canceled",
  "timedOut",
];

const HUMAN_COLUMNS: readonly (readonly [header: string, column: CountColumn])[] = [
  ["SCHEDULED", "scheduled"],
  ["PENDING", "pending"],
  ["RUNNING", "running"],
  ["COMPLETED", "completed"],
  ["FAILED", "failed"],
  ["CANCELED", "canceled"],
  ["TIMED_OUT", "timedOut"],
  ["POLLERS", "pollersWaiting"],
];

/** One `name counts...` line per queue for scripts. */
export function renderQueuesPlain(queues: readonly QueueSummary[]): string {
  return queues.map((queue) => [queue.name, ...PLAIN_COUNT_COLUMNS.map((column) => queue[column])].join(" ") + "\n").join("");
}

/** An aligned table for a person at a terminal; says so when there are no queues (with `prefix`). */
export function renderQueuesHuman(queues: readonly QueueSummary[], prefix?: string): string {
  if (queues.length === 0) return prefix === undefined ? "no queues yet\n" : `no queues starting with ${prefix}\n`;
  const header = ["QUEUE", ...HUMAN_COLUMNS.map(([title]) => title)];
  const rows = queues.map((queue) => [queue.name, ...HUMAN_COLUMNS.map(([, column]) => String(queue[column]))]);
  return renderTable([header, ...rows], { align: header.map((_, index) => (index === 0 ? "left" : "right")) });
}
