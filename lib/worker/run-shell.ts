/**
 * `tqd work --exec CMD`: a handler that runs CMD through `sh -c` once per task. The task input
 * goes to stdin as JSON; `TQD_TASK_ID`, `TQD_TASK_TYPE`, `TQD_QUEUE`, `TQD_ATTEMPT`,
 * `TQD_HOST_QUEUE` and `TQD_WORKER_QUEUE` are set;
 * stdout becomes the result (parsed when it is JSON, else the text without its final newline;
 * empty means no result); a non-zero exit fails the attempt with the tail of stderr, for good
 * (no retry) when the code is NON_RETRYABLE_EXIT_CODE.
 */
import type { Clock } from "../clock/clock.ts";
import type { Handler, TaskContext } from "./handler-api.ts";

/** How much of the end of stderr a failure message carries, in bytes. */
export const STDERR_TAIL_BYTES = 2048;
/**
 * The exit code that fails the attempt without retry, whatever the retry policy. 100 is outside
 * what shells and common tools use (1-2 for errors, 64-78 sysexits.h, 126-127 sh, 128+N
 * signals), so a crashing command is not mistaken for a deliberate final failure.
 */
export const NON_RETRYABLE_EXIT_CODE = 100;
/** How long a child gets between SIGTERM and SIGKILL once its task is aborted, in ms. */
export const KILL_GRACE_MS = 5_000;

export interface ShellHandlerOptions {
  command: string;
  /** The environment the child starts from (the worker's own); task variables are added. */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  clock: Clock;
  killGraceMs?: number;
}

/** The attempt's command exited non-zero (or was killed); `name` becomes the error type. */
export class ExitCodeError extends Error {
  override readonly name = "ExitCode";
  /** Exit code NON_RETRYABLE_EXIT_CODE: the command asked not to be retried. */
  readonly nonRetryable: boolean;
  constructor(
    readonly exitCode: number | null,
    readonly signalCode: string | null,
    stderrTail: string,
  ) {
    const how = signalCode ? `was killed by ${signalCode}` : `exited with code ${exitCode}`;
    super(stderrTail.trim() === "" ? `the command ${how}` : `the command ${how}; stderr ends with:\n${stderrTail}`);
    this.nonRetryable = exitCode === NON_RETRYABLE_EXIT_CODE;
  }
}

/** Builds the handler that runs `options.command` for every task. */
export function shellHandler(options: ShellHandlerOptions): Handler<unknown, unknown> {
  return async (input, ctx) => {
    ctx.signal.throwIfAborted();
    const child = Bun.spawn(["sh", "-c", options.command], {
      cwd: options.cwd,
      env: childEnv(options.env, ctx),
      // Handed to the runtime whole: a command that exits without reading its input (`echo
      // done`) breaks the pipe, and a write of our own into a pipe sink then failed outside any
      // try, as an uncaught EPIPE that ended the worker (a 900 KB input did it every time).
      stdin: new Blob([JSON.stringify(input ?? null) ?? "null"]),
      stdout: "pipe",
      stderr: "pipe",
      // Its own process group, so an abort reaches the commands sh started too (a killed sh
      // would leave them running, holding the pipes open), and a Ctrl-C meant for the worker
      // does not kill tasks that the grace period should let finish.
      detached: true,
    });
    const stopKilling = killOnAbort(child, ctx.signal, options);
    const output = Promise.all([new Response(child.stdout).text(), readTail(child.stderr, STDERR_TAIL_BYTES)]);
    output.catch(() => {}); // read below, unless the task was aborted
    try {
      await child.exited;
      ctx.signal.throwIfAborted();
      const [stdout, stderrTail] = await output;
      if (child.exitCode !== 0) {
        throw new ExitCodeError(child.exitCode, child.signalCode === null ? null : String(child.signalCode), stderrTail);
      }
      return parseOutput(stdout);
    } finally {
      stopKilling.abort();
    }
  };
}

function childEnv(base: ShellHandlerOptions["env"], ctx: TaskContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  return {
    ...env,
    TQD_TASK_ID: ctx.taskId,
    TQD_TASK_TYPE: ctx.type,
    TQD_QUEUE: ctx.queue,
    TQD_ATTEMPT: String(ctx.attempt),
    TQD_HOST_QUEUE: ctx.hostQueue,
    TQD_WORKER_QUEUE: ctx.workerQueue,
  };
}

/** SIGTERM when `signal` aborts, SIGKILL if the child outlives the kill grace. */
function killOnAbort(child: Bun.Subprocess, signal: AbortSignal, options: ShellHandlerOptions): AbortController {
  const done = new AbortController();
  const onAbort = async () => {
    killGroup(child, "SIGTERM");
    await options.clock.sleep(options.killGraceMs ?? KILL_GRACE_MS, done.signal);
    if (!done.signal.aborted) killGroup(child, "SIGKILL");
  };
  signal.addEventListener("abort", onAbort, { once: true, signal: done.signal });
  void child.exited.then(() => done.abort());
  return done;
}

function killGroup(child: Bun.Subprocess, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already; fall back to the child itself in case it is not.
    if (child.exitCode === null) child.kill(signal);
  }
}

/** Reads a stream to its end, keeping only the last `maxBytes`. */
async function readTail(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  let tail = new Uint8Array(0);
  for await (const chunk of stream) {
    const joined = new Uint8Array(tail.length + chunk.length);
    joined.set(tail);
    joined.set(chunk, tail.length);
    tail = joined.length > maxBytes ? joined.slice(joined.length - maxBytes) : joined;
  }
  return new TextDecoder().decode(tail);
}

function parseOutput(stdout: string): unknown {
  if (stdout.trim() === "") return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    return stdout.replace(/\r?\n$/, "");
  }
}
