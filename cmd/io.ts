/**
 * What a CLI command may touch of the outside world. Commands get this object instead of
 * reading `process`, so tests run them in-process with captured output.
 */
export interface OutStream {
  write(text: string): void;
  /** True when a person is reading (human output); false in pipes (plain lines). */
  readonly isTTY: boolean;
}

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly cwd: string;
  /** Reads all of standard input (for `-` arguments and `--exec` payloads). */
  readStdin(): Promise<string>;
  /** Calls `handler` on SIGINT or SIGTERM; returns a function that unsubscribes. */
  onShutdownSignal(handler: (signal: string) => void): () => void;
}

/** Exit codes of every command. */
export const EXIT = {
  ok: 0,
  /** The task failed, or the server refused the request. */
  failure: 1,
  /** Bad flags or arguments; the message names them. */
  usage: 2,
  /** The server could not be reached; the message names the URL. */
  unreachable: 3,
  /** A wait ran out of time. */
  timeout: 4,
} as const;

/** The exit code of a command stopped early by a signal: 128 + its number, as shells show it. */
export function exitCodeOfSignal(signal: string): number {
  return 128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 0);
}

/**
 * The exit code of a command whose output pipe was closed by its reader (`tqd ... | head`): what
 * a shell shows for a process that SIGPIPE ended (128 + 13), which is how a command-line tool is
 * expected to stop there: at once, quietly.
 */
export const BROKEN_PIPE_EXIT = 141;

/**
 * What a closed output pipe does: a command exits (BROKEN_PIPE_EXIT); the daemon and a worker
 * drop what they would have written and keep serving, as services do (systemd runs them with
 * SIGPIPE ignored; a restarted log collector must not take the queue down).
 */
export type BrokenPipePolicy = "exit" | "drop";

/** The real process: used only by the binary's entry point. */
export function processIo(onBrokenPipe: BrokenPipePolicy = "exit"): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: { write: writerOf(process.stdout, onBrokenPipe), isTTY: process.stdout.isTTY === true },
    stderr: { write: writerOf(process.stderr, onBrokenPipe), isTTY: process.stderr.isTTY === true },
    readStdin: () => new Response(Bun.stdin.stream()).text(),
    onShutdownSignal(handler) {
      const onInt = () => handler("SIGINT");
      const onTerm = () => handler("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
      return () => {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
      };
    },
  };
}

/**
 * Writes to stdout or stderr; once the reader has gone (EPIPE, thrown by the write or reported
 * later by the stream) `onBrokenPipe` decides, never a stack trace.
 */
function writerOf(stream: NodeJS.WriteStream, onBrokenPipe: BrokenPipePolicy): (text: string) => void {
  let gone = false;
  const brokenPipe = () => {
    gone = true;
    if (onBrokenPipe === "exit") process.exit(BROKEN_PIPE_EXIT);
  };
  stream.on("error", (error) => {
    if (!isBrokenPipe(error)) throw error;
    brokenPipe();
  });
  return (text) => {
    if (gone) return;
    try {
      stream.write(text);
    } catch (error) {
      if (!isBrokenPipe(error)) throw error;
      brokenPipe();
    }
  };
}

function isBrokenPipe(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EPIPE";
}
