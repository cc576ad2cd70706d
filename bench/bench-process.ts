/** Spawning the compiled binary for benchmarks, and reading a process's memory high-water mark. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

export const TQD_BIN = resolve(import.meta.dirname, "../dist/tqd");

export interface Spawned {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function spawnTqd(args: string[]): Spawned {
  if (!existsSync(TQD_BIN)) throw new Error(`${TQD_BIN} is missing: run npm run build`);
  const child = spawn(TQD_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  return {
    child,
    output: () => text,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitForOutput(spawned: Spawned, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = spawned.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline || spawned.child.exitCode !== null) throw new Error(`no ${pattern} in:\n${spawned.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Peak resident set (VmHWM) of a live process, in MiB; undefined where /proc is absent. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined;
  }
}
