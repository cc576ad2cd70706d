/**
 * How `tqd dead ls` shows a queue's dead tasks (ended failed or timed_out), oldest first.
 * - plain (pipes): one line per task, `id type state attempt finishedAt ERROR`, where ERROR is
 *   the rest of the line: `error.type: error.message` (the message JSON-escaped if it holds
 *   control characters), or `-` when the task has no error record. Ids, types and states contain
 *   no spaces, so the first five columns split on spaces.
 * - human (TTY): a table with a header; long error messages are cut to fit a line.
 */
import type { DeadTask } from "../../lib/protocol/index.ts";
import { escapeControlCharacters, renderTable, truncate } from "./text-layout.ts";

/** Longest ERROR cell in the human table; `--json` or a pipe shows it whole. */
const HUMAN_ERROR_CHARS = 60;

function describeError(task: DeadTask): string {
  return task.error ? `${task.error.type}: ${escapeControlCharacters(task.error.message)}` : "-";
}

export function renderDeadPlain(tasks: readonly DeadTask[]): string {
  return tasks.map((task) => [task.id, task.type, task.state, task.attempt, task.finishedAt, describeError(task)].join(" ") + "\n").join("");
}

export function renderDeadHuman(queue: string, tasks: readonly DeadTask[]): string {
  if (tasks.length === 0) return `no dead tasks in ${queue}\n`;
  const rows = tasks.map((task) => [
    task.id,
    task.type,
    task.state,
    String(task.attempt),
    task.finishedAt,
    truncate(describeError(task), HUMAN_ERROR_CHARS),
  ]);
  return renderTable([["ID", "TYPE", "STATE", "ATTEMPT", "FINISHED", "ERROR"], ...rows], {
    align: ["left", "left", "left", "right", "left", "left"],
  });
}
