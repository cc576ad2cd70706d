/**
 * A CliIo for running commands in-process: output is captured in memory, stdin is a fixed
 * string, and shutdown signals are raised by the test instead of the OS.
 */
import type { CliIo } from "../../cmd/io.ts";

export interface CapturedIoOptions {
  env?: Record<string, string | undefined>;
  /** What readStdin() returns; reading it when undefined fails the test loudly. */
  stdin?: string;
  /** Pretend both streams are a terminal (human layouts) instead of pipes (plain lines). */
  isTTY?: boolean;
}

export interface CapturedIo {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  /** Delivers a shutdown signal to every handler the command registered. */
  raiseSignal(signal?: string): void;
}

export function capturedIo(options: CapturedIoOptions = {}): CapturedIo {
  let out = "";
  let err = "";
  const handlers = new Set<(signal: string) => void>();
  const isTTY = options.isTTY ?? false;
  const io: CliIo = {
    env: options.env ?? {},
    cwd: process.cwd(),
    stdout: { write: (text) => void (out += text), isTTY },
    stderr: { write: (text) => void (err += text), isTTY },
    readStdin: async () => {
      if (options.stdin === undefined) throw new Error("the command read stdin, but the test gave none");
      return options.stdin;
    },
    onShutdownSignal(handler) {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
  };
  return {
    io,
    stdout: () => out,
    stderr: () => err,
    raiseSignal: (signal = "SIGINT") => handlers.forEach((handler) => handler(signal)),
  };
}
