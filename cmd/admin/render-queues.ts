/**
 * How `tqd queues` shows the queue list.
 * - plain (pipes): one line per queue, `name pending running completed failed pollersWaiting`,
 *   separated by single spaces, no header. Queue names contain no spaces (see lib/protocol
 *   names), so `awk '{print $2}'` is safe.
 * - human (TTY): a table with a header, counts right-aligned.
 */
import type { QueueSummary } from "../../lib/protocol/index.ts";

const COUNT_COLUMNS = ["pending", "running", "completed", "failed", "pollersWaiting"] as const;
const HUMAN_HEADERS = ["QUEUE", "PENDING", "RUNNING", "COMPLETED", "FAILED", "POLLERS"] as const;

/** One `name counts...` line per queue for scripts. */
export function renderQueuesPlain(queues: readonly QueueSummary[]): string {
  return queues.map((queue) => [queue.name, ...COUNT_COLUMNS.map((column) => queue[column])].join(" ") + "\n").join("");
}

/** An aligned table for a person at a terminal; says so when there are no queues yet. */
export function renderQueuesHuman(queues: readonly QueueSummary[]): string {
  if (queues.length === 0) return "no queues yet\n";
  const rows = queues.map((queue) => [queue.name, ...COUNT_COLUMNS.map((column) => String(queue[column]))]);
  const table = [[...HUMAN_HEADERS], ...rows];
  const widths = HUMAN_HEADERS.map((_, index) => Math.max(...table.map((row) => (row[index] ?? "").length)));
  return table
    .map((row) =>
      row
        // The name column reads left to right; counts line up on their last digit.
        .map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0)))
        .join("  ")
        .trimEnd() + "\n",
    )
    .join("");
}
