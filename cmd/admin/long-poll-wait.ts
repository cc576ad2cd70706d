/**
 * The long-poll wait loop behind `tqd wait` (task-wait.ts) and `tqd workflow wait`
 * (workflow-wait.ts). The waiting itself happens on the server: each read is a long poll that
 * the server holds until the thing is final or `waitMs` runs out, so this loop only re-asks and
 * watches our deadline. Exit codes: 0 completed, 1 failed (or canceled, timed out), 1 or 3 for
 * a client error (reportClientError), 4 when the timeout runs out first.
 */
import { systemClock, type Clock } from "../../lib/clock/clock.ts";
import { LIMITS, formatDuration, type TaskError } from "../../lib/protocol/index.ts";
import { reportClientError } from "../client-command.ts";
import { EXIT, type CliIo } from "../io.ts";

export interface LongPollWaitOptions {
  /** Give up after this long; undefined waits without limit. 0 looks once. */
  timeoutMs?: number | undefined;
  clock?: Clock;
  /** Stops the wait (the read in flight and any pause); the wait then rejects. */
  signal?: AbortSignal | undefined;
}

/** What is waited for: one long-poll read and the test for "done". */
export interface LongPoll<T> {
  /** Reads the current state, letting the server hold the request up to `waitMs`. */
  read(waitMs: number): Promise<T>;
  isFinal(value: T): boolean;
}

/** `final: false` when the deadline passed first; `last` is the last state seen either way. */
export type LongPollOutcome<T> = { final: boolean; last: T };

/**
 * A non-final answer that comes back sooner than asked (a server that ignores or caps waitMs)
 * would make the loop spin; pausing this long between such answers bounds the request rate.
 */
const EARLY_ANSWER_PAUSE_MS = 250;

/** Re-reads in long polls of up to LIMITS.taskWaitMs until the value is final or the timeout passes. */
export async function waitUntilFinal<T>(poll: LongPoll<T>, options: LongPollWaitOptions = {}): Promise<LongPollOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
  for (;;) {
    const askedAt = clock.now();
    const remainingMs = deadline === undefined ? LIMITS.taskWaitMs : Math.max(0, deadline - askedAt);
    const waitMs = Math.min(remainingMs, LIMITS.taskWaitMs);
    const last = await poll.read(waitMs);
    if (poll.isFinal(last)) return { final: true, last };
    const now = clock.now();
    if (deadline !== undefined && now >= deadline) return { final: false, last };
    if (now - askedAt < waitMs) {
      await clock.sleep(Math.min(EARLY_ANSWER_PAUSE_MS, deadline === undefined ? Infinity : deadline - now), options.signal);
      options.signal?.throwIfAborted();
    }
  }
}

/**
 * Waits, prints the outcome, and returns the exit code (0, 1, 3 or 4): `report` prints a final
 * value; a client error goes through reportClientError; a timeout prints
 * `error: timed out after 5s waiting for <subject> (state: <state>)` and exits 4.
 */
export async function waitUntilFinalAndReport<T extends { state: string }>(
  io: CliIo,
  poll: LongPoll<T> & {
    /** Names the thing in the timeout message, e.g. `task task-1`. */
    subject: string;
    report(value: T): number;
  },
  options: LongPollWaitOptions = {},
): Promise<number> {
  let outcome: LongPollOutcome<T>;
  try {
    outcome = await waitUntilFinal(poll, options);
  } catch (error) {
    return reportClientError(io, error);
  }
  if (outcome.final) return poll.report(outcome.last);
  const waited = formatDuration(options.timeoutMs ?? 0);
  io.stderr.write(`error: timed out after ${waited} waiting for ${poll.subject} (state: ${outcome.last.state})\n`);
  return EXIT.timeout;
}

/** What reportFinal says of a thing that did not complete. */
export interface FinalWords<T> {
  /** The error printed for a thing that ended without one, made up from its state. */
  errorOfState(value: T): TaskError;
  /** The line (no newline) printed on a terminal instead of the error JSON. */
  sentence(value: T, error: TaskError): string;
}

/**
 * Prints a final thing and returns its exit code (0 only for completed).
 * - `--json`: the whole view as one line on stdout, whatever the outcome.
 * - completed: the result as one JSON line (`null` without one), so `$(...)` is always JSON.
 * - otherwise: the error on stderr (`words.errorOfState` without one), one JSON line in pipes,
 *   `words.sentence` on a terminal.
 */
export function reportFinal<T extends { state: string; result?: unknown; error?: TaskError | undefined }>(
  io: CliIo,
  value: T,
  options: { json: boolean },
  words: FinalWords<T>,
): number {
  const exitCode = value.state === "completed" ? EXIT.ok : EXIT.failure;
  if (options.json) {
    io.stdout.write(JSON.stringify(value) + "\n");
    return exitCode;
  }
  if (value.state === "completed") {
    io.stdout.write(JSON.stringify(value.result ?? null) + "\n");
    return exitCode;
  }
  const error = value.error ?? words.errorOfState(value);
  io.stderr.write((io.stderr.isTTY ? words.sentence(value, error) : JSON.stringify(error)) + "\n");
  return exitCode;
}
