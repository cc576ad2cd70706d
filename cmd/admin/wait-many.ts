/**
 * `tqd wait ID ID... | -`: waiting for many tasks (the ids `tqd enqueue --lines` printed, say).
 * They are waited for in the order given, under one deadline, and each is printed as soon as it
 * and the ones before it are final: one line per task, so the output lines up with the ids.
 *
 * - `--json`: the final TaskView.
 * - otherwise: `ID STATE JSON`, JSON being the result (`null` without one) of a completed task
 *   and the error (`{"type","message"}`, made up from the state without one) of any other.
 *
 * Exit code: 0 when every task completed, 1 when one ended otherwise (after all are printed),
 * 4 when the deadline passed first, 1 or 3 for a client error (an unknown id: not_found); in the
 * last two cases stderr also says how many tasks were printed.
 */
import { systemClock } from "../../lib/clock/clock.ts";
import { formatDuration, isTaskId, type TaskView } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, type CliIo } from "../io.ts";
import { errorOfState, waitForFinalTask, type TaskReader, type WaitOptions, type WaitOutcome } from "./task-wait.ts";

/** The ids of `text`, one per line (blank lines skipped); the first line that is no task id is named. */
export function parseIdLines(text: string): { ok: true; ids: string[] } | { ok: false; message: string } {
  const ids: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const id = lines[i]!.trim();
    if (id === "") continue;
    if (!isTaskId(id)) return { ok: false, message: `line ${i + 1} of stdin is not a task id: ${JSON.stringify(id.slice(0, 80))}` };
    ids.push(id);
  }
  return { ok: true, ids };
}

/**
 * Waits running ahead of the one printed next. Each is a request (a long poll while its task
 * runs); one at a time, 20,000 ended tasks took 4.5 s to print here.
 */
export const WAITS_AHEAD = 16;

type Waited = { outcome: WaitOutcome } | { error: unknown };

/** Waits for `ids` in order and prints each final task; returns the exit code. */
export async function waitForTasks(reader: TaskReader, ids: readonly string[], io: CliIo, options: WaitOptions & { json: boolean }): Promise<number> {
  const clock = options.clock ?? systemClock;
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
  // Ends the waits still running when this returns early, so the process need not wait for them.
  const stop = new AbortController();
  const waits: Promise<Waited>[] = [];
  const startWait = (id: string): Promise<Waited> =>
    waitForFinalTask(reader, id, { clock, signal: stop.signal, timeoutMs: deadline === undefined ? undefined : Math.max(0, deadline - clock.now()) }).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
  let allCompleted = true;
  try {
    for (let i = 0; i < ids.length; i++) {
      while (waits.length < Math.min(ids.length, i + WAITS_AHEAD)) waits.push(startWait(ids[waits.length]!));
      const waited = await waits[i]!;
      if ("error" in waited) {
        const code = reportClientError(io, waited.error);
        io.stderr.write(`error: ${i} of ${ids.length} tasks were printed; stopped at task ${ids[i]}\n`);
        return code;
      }
      const { finished, task } = waited.outcome;
      if (!finished) {
        io.stderr.write(`error: timed out after ${formatDuration(options.timeoutMs ?? 0)} waiting for task ${ids[i]} (state: ${task.state}); ${i} of ${ids.length} tasks were printed\n`);
        return EXIT.timeout;
      }
      io.stdout.write(lineOf(task, options.json) + "\n");
      if (task.state !== "completed") allCompleted = false;
    }
  } finally {
    stop.abort();
  }
  return allCompleted ? EXIT.ok : EXIT.failure;
}

function lineOf(task: TaskView, json: boolean): string {
  if (json) return JSON.stringify(task);
  const outcome = task.state === "completed" ? (task.result ?? null) : (task.error ?? errorOfState(task.state));
  return `${task.id} ${task.state} ${JSON.stringify(outcome)}`;
}
