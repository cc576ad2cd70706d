/**
 * `tqd enqueue QUEUE TYPE --lines`: a task for each line of standard input (JSON Lines: each line
 * one task's input), all of one type and with the same flags, sent in batches so that a script
 * enqueues thousands a second instead of starting one process a task.
 *
 * Every line is parsed before anything is sent: a line that is not JSON exits 2 naming it, and
 * no task is enqueued. Then batches of at most 1,000 tasks and about 512 KiB go one after the
 * other, and each batch's ids are printed (one per line, in input order) as soon as it is
 * committed, so a consumer downstream starts at once and, if a later batch fails, what is on
 * stdout is exactly what was enqueued: the first N inputs. A batch the server finds too large
 * (a smaller `--max-body` than the default) is halved until it fits. Each task carries an id
 * minted here (ascending, see task-id.ts), so a batch retried after a lost connection never
 * enqueues a task twice.
 */
import { TqdApiError, type TqdClient } from "../../lib/client/index.ts";
import type { EnqueueBatchResponse, EnqueueRequest } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, exitCodeOfSignal, type CliIo } from "../io.ts";
import { newTaskId, taskIdSeries } from "./task-id.ts";
import { escapeControlCharacters } from "./text-layout.ts";

/** Tasks in one request: the batch route's answer stays small and the commit short. */
export const LINE_BATCH_TASKS = 1_000;
/** JSON bytes in one request: half the server's default `--max-body` of 1 MiB. */
export const LINE_BATCH_BYTES = 512 * 1024;

/**
 * The non-blank lines of stdin, each a checked JSON text, kept as offsets into the text read:
 * a value is parsed again when its batch is built, so memory holds the input and 16 bytes a
 * line, not every parsed value and request at once (1,000,000 lines would have taken about a
 * gigabyte).
 */
export interface InputLines {
  readonly text: string;
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

export type ParsedLines = { ok: true; lines: InputLines } | { ok: false; message: string };

/** Checks each non-blank line is JSON, in order; the first line that is not is named. */
export function parseInputLines(text: string): ParsedLines {
  const starts: number[] = [];
  const ends: number[] = [];
  // A byte-order mark (files saved by some Windows editors) is not part of the first line.
  for (let lineStart = text.startsWith("\uFEFF") ? 1 : 0, number = 1; lineStart < text.length; number++) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline < 0 ? text.length : newline;
    let start = lineStart;
    let end = lineEnd;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
    lineStart = lineEnd + 1;
    if (start === end) continue;
    try {
      JSON.parse(text.slice(start, end));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, message: `line ${number} of stdin is not valid JSON (--lines takes one task input per line): ${reason}` };
    }
    starts.push(start);
    ends.push(end);
  }
  return { ok: true, lines: { text, starts, ends } };
}

/** Space, tab, carriage return: what JSON allows around a value (a line ends at the newline). */
function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13;
}

/** The input of line `index` (of the non-blank ones), parsed. */
export function inputAt(lines: InputLines, index: number): unknown {
  return JSON.parse(lines.text.slice(lines.starts[index]!, lines.ends[index]!));
}

/**
 * Consecutive ranges [from, to) of the lines, each at most `maxTasks` lines and, past its first
 * line, `maxBytes` of request JSON, a line's request counted as its text plus `overhead` (the
 * request's other fields).
 */
export function batchRanges(lines: InputLines, overhead: number, maxTasks = LINE_BATCH_TASKS, maxBytes = LINE_BATCH_BYTES): [number, number][] {
  const ranges: [number, number][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < lines.starts.length; i++) {
    const size = lines.ends[i]! - lines.starts[i]! + overhead;
    if (i > from && (i - from === maxTasks || bytes + size > maxBytes)) {
      ranges.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < lines.starts.length) ranges.push([from, lines.starts.length]);
  return ranges;
}

/**
 * Sends the lines' tasks in batches, in order, printing each batch's ids (or, with `json`,
 * answers) when it is committed; returns the exit code. `requestOf` builds a line's request
 * around the id minted for it here; ids count up in the input's order (see task-id.ts), which
 * the server's index of producer ids takes at its end. The typo guard's warning is printed once.
 */
export async function enqueueLines(
  client: TqdClient,
  queue: string,
  lines: InputLines,
  requestOf: (input: unknown, id: string) => EnqueueRequest,
  io: CliIo,
  json: boolean,
): Promise<number> {
  const total = lines.starts.length;
  let enqueued = 0;
  let warned = false;
  const committed = (answer: EnqueueBatchResponse): void => {
    if (answer.warning !== undefined && !warned) {
      warned = true;
      io.stderr.write(`warning: ${escapeControlCharacters(answer.warning)}\n`);
    }
    io.stdout.write(answer.tasks.map((task) => (json ? JSON.stringify(task) : task.id) + "\n").join(""));
    enqueued += answer.tasks.length;
  };
  const nextId = taskIdSeries(Date.now());
  // A request's size but its input's: the same for every line (ids are all 26 characters).
  const overhead = JSON.stringify(requestOf(null, newTaskId(0))).length - "null".length;
  const summary = () => `${enqueued} of ${total} tasks were enqueued (the first ${enqueued} inputs; their ids are on stdout), the rest were not`;
  // Ctrl-C (or SIGTERM) stops after the batch in flight, so its ids are printed too; a second
  // one finds no handler and ends the process at once.
  let stoppedBy: string | undefined;
  const stopListening = io.onShutdownSignal((signal) => {
    stoppedBy = signal;
    stopListening();
  });
  try {
    for (const [from, to] of batchRanges(lines, overhead)) {
      if (stoppedBy !== undefined) break;
      const batch: EnqueueRequest[] = [];
      for (let i = from; i < to; i++) batch.push(requestOf(inputAt(lines, i), nextId()));
      await sendFitting(client, queue, batch, committed);
    }
  } catch (error) {
    const code = reportClientError(io, error);
    io.stderr.write(`error: ${summary()}\n`);
    return code;
  } finally {
    stopListening();
  }
  if (stoppedBy !== undefined && enqueued < total) {
    io.stderr.write(`stopped by ${stoppedBy}: ${summary()}\n`);
    return exitCodeOfSignal(stoppedBy);
  }
  return EXIT.ok;
}

/** Sends one batch, halving it while the server answers that it is too large. */
async function sendFitting(client: TqdClient, queue: string, batch: EnqueueRequest[], committed: (answer: EnqueueBatchResponse) => void): Promise<void> {
  let answer: EnqueueBatchResponse;
  try {
    answer = await client.enqueueBatch(queue, batch);
  } catch (error) {
    if (!(error instanceof TqdApiError && error.code === "payload_too_large" && batch.length > 1)) throw error;
    const half = Math.ceil(batch.length / 2);
    await sendFitting(client, queue, batch.slice(0, half), committed);
    await sendFitting(client, queue, batch.slice(half), committed);
    return;
  }
  committed(answer);
}
