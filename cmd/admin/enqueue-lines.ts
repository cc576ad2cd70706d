/**
 * `tqd enqueue QUEUE TYPE --lines`: a task for each line of standard input (JSON Lines: each line
 * one task's input), all of one type and with the same flags, sent in batches so that a script
 * enqueues thousands a second instead of starting one process a task.
 *
 * Every line is parsed before anything is sent: a line that is not JSON exits 2 naming it, and
 * no task is enqueued. Then batches of at most 1,000 tasks and about 512 KiB go one after the
 * other, and each batch's ids are printed (one per line, in input order) as soon as it is
 * committed, so a consumer downstream starts at once and, if a later batch fails, what is on
 * stdout is exactly what was enqueued: the first N lines. A batch the server finds too large
 * (a smaller `--max-body` than the default) is halved until it fits. Each task carries an id
 * minted here (ascending, see task-id.ts), so a batch retried after a lost connection never
 * enqueues a task twice.
 */
import { TqdApiError, type TqdClient } from "../../lib/client/index.ts";
import type { EnqueueBatchResponse, EnqueueRequest } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, type CliIo } from "../io.ts";
import { escapeControlCharacters } from "./text-layout.ts";

/** Tasks in one request: the batch route's answer stays small and the commit short. */
export const LINE_BATCH_TASKS = 1_000;
/** JSON bytes in one request: half the server's default `--max-body` of 1 MiB. */
export const LINE_BATCH_BYTES = 512 * 1024;

export type ParsedLines = { ok: true; inputs: unknown[] } | { ok: false; message: string };

/** Each non-blank line's JSON value, in order; the first line that is not JSON is named. */
export function parseInputLines(text: string): ParsedLines {
  const inputs: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      inputs.push(JSON.parse(line));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, message: `line ${i + 1} of stdin is not valid JSON (--lines takes one task input per line): ${reason}` };
    }
  }
  return { ok: true, inputs };
}

/** Consecutive runs of `requests` of at most `maxTasks` and, past the first, `maxBytes` of JSON. */
export function batchesOf(requests: readonly EnqueueRequest[], maxTasks = LINE_BATCH_TASKS, maxBytes = LINE_BATCH_BYTES): EnqueueRequest[][] {
  const batches: EnqueueRequest[][] = [];
  let batch: EnqueueRequest[] = [];
  let bytes = 0;
  for (const request of requests) {
    const size = JSON.stringify(request).length + 1;
    if (batch.length > 0 && (batch.length === maxTasks || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(request);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Sends the batches in order, printing each one's ids (or, with `json`, answers) when it is
 * committed; returns the exit code. The typo guard's warning is printed once.
 */
export async function enqueueLines(client: TqdClient, queue: string, requests: readonly EnqueueRequest[], io: CliIo, json: boolean): Promise<number> {
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
  try {
    for (const batch of batchesOf(requests)) await sendFitting(client, queue, batch, committed);
  } catch (error) {
    const code = reportClientError(io, error);
    io.stderr.write(`error: ${enqueued} of ${requests.length} tasks were enqueued (the first ${enqueued} inputs; their ids are on stdout), the rest were not\n`);
    return code;
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
