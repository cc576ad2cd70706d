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

/** The real process: used only by the binary's entry point. */
export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: { write: (text) => void process.stdout.write(text), isTTY: process.stdout.isTTY === true },
    stderr: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true },
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
