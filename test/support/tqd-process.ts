/**
 * Running the compiled `dist/tqd` as a user would: the daemon, workers and CLI commands as
 * child processes. Each child runs in its own process group so `kill -9` also takes its
 * children (an --exec worker's shell), and disposal always kills what is left.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const TQD_BIN = resolve(import.meta.dirname, "../../dist/tqd");

/**
 * Every child started here that has not exited. The per-test leak check (leak-check.ts) kills
 * what a test left behind: a test that timed out never reaches its disposers, and children run
 * in their own process groups, so they would outlive the test run.
 */
export const liveTqdProcesses = new Set<TqdProcess>();

export function assertBinaryBuilt(): void {
  if (!existsSync(TQD_BIN)) throw new Error(`${TQD_BIN} is missing: run 'npm run build' (npm test does it first)`);
}

export interface TqdProcess extends AsyncDisposable {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr (or stdout) has a line matching `pattern`; rejects at the deadline. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or 128 + signal number). */
  exited: Promise<number>;
  /** Signals the whole process group. */
  kill(signal: NodeJS.Signals): void;
}

/** Starts `dist/tqd ARGS...`. */
export function startTqd(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): TqdProcess {
  assertBinaryBuilt();
  const child = spawn(TQD_BIN, [...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  let err = "";
  const watchers = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const watch of [...watchers]) watch();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    for (const watch of [...watchers]) watch();
  });
  const exited = new Promise<number>((resolveExit) => {
    child.on("exit", (code, signal) => {
      resolveExit(code ?? 128 + (signal ? signalNumber(signal) : 0));
      for (const watch of [...watchers]) watch();
    });
  });
  let exitCode: number | undefined;
  void exited.then((code) => (exitCode = code));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  const handle: TqdProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = err.match(pattern) ?? out.match(pattern);
          if (match) return done(() => resolveMatch(match));
          if (exitCode !== undefined) return done(() => reject(new Error(`tqd ${args[0]} exited ${exitCode} before printing ${pattern}:\n${err}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms from tqd ${args.join(" ")}:\n${err}`))), timeoutMs);
        const done = (finish: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          finish();
        };
        watchers.add(check);
        check();
      });
    },
    async [Symbol.asyncDispose]() {
      if (exitCode === undefined) {
        kill("SIGKILL");
        await exited;
      }
    },
  };
  liveTqdProcesses.add(handle);
  void exited.then(() => liveTqdProcesses.delete(handle));
  return handle;
}

export interface DaemonProcess extends TqdProcess {
  url: string;
}

/** Starts `tqd serve` on a free port in `dataDir` and waits until it serves. */
export async function startDaemon(dataDir: string, extraArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> {
  const daemon = startTqd(["serve", "--listen", "127.0.0.1:0", "--data", dataDir, ...extraArgs], { env });
  try {
    const match = await daemon.waitForOutput(/tqd serving url=(\S+)/);
    return Object.assign(daemon, { url: match[1]! });
  } catch (error) {
    await daemon[Symbol.asyncDispose]();
    throw error;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export async function runTqd(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  assertBinaryBuilt();
  const child = spawn(TQD_BIN, [...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const code = await new Promise<number>((resolveExit) => child.on("close", (exit, signal) => resolveExit(exit ?? 128 + (signal ? signalNumber(signal) : 0))));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 0;
}
