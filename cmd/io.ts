/**
 * What a CLI command may touch of the outside world. Commands get this object instead of
 * reading `process`, so tests run them in-process with captured output.
 */
import { fstatSync } from "node:fs";

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
    stdout: outStreamOf(1, onBrokenPipe),
    stderr: outStreamOf(2, onBrokenPipe),
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
 * Standard output or error, written through the runtime's file sink rather than
 * `process.stdout`: the first touch of `process.stdout` / `process.stderr` loads Node's stream
 * modules, 11-13 ms of every start of the compiled binary (a command, a worker, the daemon),
 * where the sink takes under 1 ms. Each write is flushed at once (log lines appear as they
 * happen); a write the reader is not ready for stays queued in the sink and keeps the process
 * alive until it is written, as the stream did. Once the reader has gone (EPIPE, thrown by the
 * write or reported by a later flush) `onBrokenPipe` decides, never a stack trace.
 */
function outStreamOf(fd: 1 | 2, onBrokenPipe: BrokenPipePolicy): OutStream {
  let sink: ReturnType<typeof Bun.stdout.writer> | undefined;
  let gone = false;
  let terminal: boolean | undefined;
  const failed = (error: unknown) => {
    if (!isBrokenPipe(error)) throw error;
    gone = true;
    if (onBrokenPipe === "exit") process.exit(BROKEN_PIPE_EXIT);
  };
  return {
    write(text) {
      if (gone) return;
      try {
        sink ??= (fd === 1 ? Bun.stdout : Bun.stderr).writer();
        // Either may hand back a promise (the data is queued) that a gone reader rejects.
        const written = sink.write(text);
        if (written instanceof Promise) written.catch(failed);
        const flushed = sink.flush();
        if (flushed instanceof Promise) flushed.catch(failed);
      } catch (error) {
        failed(error);
      }
    },
    get isTTY() {
      terminal ??= isTerminal(fd);
      return terminal;
    },
  };
}

/**
 * Whether `fd` is a terminal. A pipe, a file or a socket is never one, and `fstat` says so
 * cheaply; only a character device (a terminal, or /dev/null) is asked of `node:tty`, which
 * costs about 10 ms to load.
 */
export function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  const tty = require("node:tty") as typeof import("node:tty");
  return tty.isatty(fd);
}

function isBrokenPipe(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EPIPE";
}
