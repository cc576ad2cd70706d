/**
 * Processes for benchmarks: spawning the compiled binary (daemon and workers), waiting for the
 * daemon to be ready, and reading a process's memory from /proc.
 *
 * `TQD_BIN` overrides the binary (default `dist/tqd`), so a measurement can run on a copy that
 * a concurrent `npm run build` cannot replace midway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const TQD_BIN = process.env.TQD_BIN ? resolve(process.env.TQD_BIN) : resolve(import.meta.dirname, "../../dist/tqd");

export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves once the process has exited. */
  kill(): Promise<void>;
}

export function spawnTqd(args: string[]): Spawned {
  return spawnProcess(TQD_BIN, args);
}

/** Spawns any executable with the same output capture and stop/kill handling as `spawnTqd`. */
export function spawnProcess(executable: string, args: string[]): Spawned {
  if (!existsSync(executable)) throw new Error(`${executable} is missing: run npm run build`);
  const child = spawn(executable, args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  return {
    child,
    output: () => text,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
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

/** A daemon on a fresh data directory, with the URL it serves. */
export interface Daemon {
  url: string;
  dataDir: string;
  server: Spawned;
}

export async function withDaemon<T>(fn: (daemon: Daemon) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "tqd-bench-"));
  let daemon: Daemon | undefined;
  try {
    const server = spawnTqd(["serve", "--listen", "127.0.0.1:0", "--data", dataDir]);
    daemon = { url: "", dataDir, server };
    daemon.url = (await waitForOutput(server, /tqd serving url=(\S+)/))[1]!;
    return await fn(daemon);
  } finally {
    await daemon?.server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Spawns `tqd serve` on `port` and times it from spawn to the first `200` of `GET /readyz`
 * (the daemon listens only once its store is loaded). Polls every millisecond or so, so the
 * resolution is a few ms. `selfReportedMs` is the `readyMs` of the daemon's start line.
 */
export async function startTimed(dataDir: string, port: number, timeoutMs = 120_000): Promise<{ server: Spawned; url: string; readyMs: number; selfReportedMs: number | undefined }> {
  const url = `http://127.0.0.1:${port}`;
  const start = performance.now();
  const server = spawnTqd(["serve", "--listen", `127.0.0.1:${port}`, "--data", dataDir]);
  for (;;) {
    try {
      const response = await fetch(`${url}/readyz`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (server.child.exitCode !== null || performance.now() - start > timeoutMs) {
      await server.kill();
      throw new Error(`tqd serve did not become ready:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const readyMs = performance.now() - start;
  const reported = await waitForOutput(server, /readyMs=(\d+)/).catch(() => undefined);
  return { server, url, readyMs, selfReportedMs: reported ? Number(reported[1]) : undefined };
}

/** A TCP port that was free a moment ago (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** User + system CPU of a live process in ms, from /proc (clock ticks of 10 ms); NaN where /proc is absent. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Minor page faults of a live process so far, from /proc; NaN where /proc is absent. A fault
 * costs 11-14 µs on the 2-core machine (a VM), so a cold round's faults (its heap growing into
 * new memory) are a visible share of its CPU (bench/NOTES.md, "Page faults and huge pages").
 */
export function minorFaults(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[7]);
  } catch {
    return NaN;
  }
}

/** Peak resident set (VmHWM) of a live process, in MiB; undefined where /proc is absent. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  return procStatusMiB(pid, "VmHWM");
}

/** Current resident set (VmRSS) of a live process, in MiB; undefined where /proc is absent. */
export function rssMiB(pid: number | undefined): number | undefined {
  return procStatusMiB(pid, "VmRSS");
}

function procStatusMiB(pid: number | undefined, field: "VmHWM" | "VmRSS"): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined;
  }
}
