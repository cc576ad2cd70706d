/**
 * Durable workflows through the compiled binary: `tqd serve`, `tqd work` processes running
 * test/e2e/fixtures/workflow-handlers.ts (the file-processing example's workflow plus small
 * ones), and the `tqd workflow` commands. Crashes are real: `kill -9` of workers and daemon.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { workflowHistoryResponseSchema, workflowViewSchema } from "../../lib/protocol/index.ts";
import { tempDir } from "../support/temp-dir.ts";
import { startHostWorkers } from "./fixtures/host-workers.ts";
import { eventually, runTqd, startDaemon, startTqd, type DaemonProcess, type TqdProcess } from "../support/tqd-process.ts";

const HANDLERS = resolve(import.meta.dirname, "fixtures/workflow-handlers.ts");

async function startWorkflow(daemon: DaemonProcess, type: string, input: unknown, queue: string, id: string): Promise<void> {
  const started = await runTqd(["workflow", "start", type, JSON.stringify(input), "--queue", queue, "--id", id, "--server", daemon.url]);
  expect(started.code, started.stderr).toBe(0);
}

async function waitWorkflow(daemon: DaemonProcess, id: string, timeout = "60s"): Promise<unknown> {
  const waited = await runTqd(["workflow", "wait", id, "--timeout", timeout, "--server", daemon.url], { timeoutMs: 90_000 });
  expect(waited.code, `${id}: ${waited.stdout}${waited.stderr}`).toBe(0);
  return JSON.parse(waited.stdout);
}

async function describeWorkflow(daemon: DaemonProcess, id: string) {
  const response = await fetch(`${daemon.url}/v1/workflows/${id}`);
  return workflowViewSchema.parse(await response.json());
}

async function historyOf(daemon: DaemonProcess, id: string) {
  const response = await fetch(`${daemon.url}/v1/workflows/${id}/history`);
  return workflowHistoryResponseSchema.parse(await response.json()).events;
}

/** `tqd_workflow_tasks_total{mode=...}` from /metrics. */
async function workflowTaskModes(daemon: DaemonProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  const modes: Record<string, number> = {};
  for (const match of text.matchAll(/^tqd_workflow_tasks_total\{mode="(\w+)"\} (\d+)$/gm)) modes[match[1]!] = Number(match[2]);
  return modes;
}

function startWorker(daemon: DaemonProcess | string, args: readonly string[], env: Record<string, string> = {}): TqdProcess {
  const url = typeof daemon === "string" ? daemon : daemon.url;
  return startTqd(["work", HANDLERS, "--server", url, ...args], { env });
}

describe("workflows (binary)", () => {
  test("file processing in sessions: each file's steps on one host; a host killed mid-session makes its file start over elsewhere", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    await using hosts = await startHostWorkers(dir.path, HANDLERS, daemon.url, 8);
    const { outDir, stepLog } = hosts;
    const files = Array.from({ length: 20 }, (_, n) => `f${String(n).padStart(2, "0")}`);
    hosts.hold("f07");
    for (const file of files) await startWorkflow(daemon, "fileProcessing", { name: file, outDir, sessionHeartbeat: "2s" }, "files", file);
    const doomedHost = await hosts.killHostOf("f07");

    const results = new Map<string, { hosts: string[]; attempts: number; host: string }>();
    for (const file of files) results.set(file, (await waitWorkflow(daemon, file)) as { hosts: string[]; attempts: number; host: string });
    const steps = readFileSync(stepLog, "utf8").trim().split("\n");
    for (const [file, result] of results) {
      const [downloadHost] = result.hosts;
      expect(result.hosts, file).toEqual([downloadHost, downloadHost, downloadHost]);
      for (const step of ["download", "process", "upload"]) expect(steps, `${step} ${file}`).toContain(`${step} ${file} ${downloadHost}`);
      expect(readFileSync(join(outDir, `${file}.processed`), "utf8")).toBe(`${file} downloaded on ${downloadHost}\nprocessed on ${downloadHost}\n`);
    }
    const f07 = results.get("f07")!;
    expect(f07.attempts).toBe(2);
    expect(f07.hosts[0]).not.toBe(doomedHost);
    const events = await historyOf(daemon, "f07");
    expect(events.filter((e) => e.kind === "session.failed")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "session.created")).toHaveLength(2);
  }, 120_000);

  test("kill -9 of the daemon in the middle of 50 workflows: all complete, each activity's completion recorded once", async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, "data");
    const runLog = join(dir.path, "runs.log");
    let daemon = await startDaemon(dataDir);
    const port = new URL(daemon.url).port;
    await using _daemon = { [Symbol.asyncDispose]: () => daemon[Symbol.asyncDispose]() };
    await using worker = startWorker(daemon, ["--queue", "chains", "--concurrency", "16"], { WORKFLOW_RUN_LOG: runLog });
    await worker.waitForOutput(/worker started/);
    const ids = Array.from({ length: 50 }, (_, n) => `chain-${n}`);
    for (const id of ids) await startWorkflow(daemon, "counted", { steps: 6 }, "chains", id);
    await eventually(() => (existsSync(runLog) && readFileSync(runLog, "utf8").split("\n").length > 100 ? true : undefined), "100 activities to run", 60_000);
    daemon.kill("SIGKILL");
    await daemon.exited;
    daemon = await startDaemon(dataDir, ["--listen", `127.0.0.1:${port}`]);
    for (const id of ids) expect(await waitWorkflow(daemon, id)).toEqual({ done: [1, 2, 3, 4, 5, 6] });
    for (const id of ids) {
      const events = await historyOf(daemon, id);
      const completed = events.filter((e) => e.kind === "activity.completed").map((e) => (e as { seq: number }).seq);
      expect(completed, id).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events.filter((e) => e.kind === "activity.scheduled")).toHaveLength(6);
    }
  }, 180_000);

  test("a workflow sleeping 2 s resumes after a daemon restart", async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, "data");
    let daemon = await startDaemon(dataDir);
    const port = new URL(daemon.url).port;
    await using _daemon = { [Symbol.asyncDispose]: () => daemon[Symbol.asyncDispose]() };
    await using worker = startWorker(daemon, ["--queue", "naps"]);
    await worker.waitForOutput(/worker started/);
    await startWorkflow(daemon, "sleeper", {}, "naps", "nap");
    await eventually(async () => ((await describeWorkflow(daemon, "nap")).timers.length === 1 ? true : undefined), "the timer to start");
    daemon.kill("SIGKILL");
    await daemon.exited;
    daemon = await startDaemon(dataDir, ["--listen", `127.0.0.1:${port}`]);
    const result = (await waitWorkflow(daemon, "nap")) as { sleptMs: number };
    expect(result.sleptMs).toBeGreaterThanOrEqual(2_000);
    expect((await historyOf(daemon, "nap")).map((e) => e.kind)).toContain("timer.fired");
  }, 60_000);

  test("a nondeterministic code change is reported as such; the workflow waits for fixed code", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const v1 = startWorker(daemon, ["--queue", "versions"], { WORKFLOW_CODE_VERSION: "v1" });
    await v1.waitForOutput(/worker started/);
    await startWorkflow(daemon, "versioned", {}, "versions", "ver");
    await eventually(async () => ((await describeWorkflow(daemon, "ver")).blockedOn.some((what) => what.includes("go")) ? true : undefined), "the code to wait for the signal");
    await v1[Symbol.asyncDispose]();

    await using v2 = startWorker(daemon, ["--queue", "versions"], { WORKFLOW_CODE_VERSION: "v2" });
    await v2.waitForOutput(/worker started/);
    const signaled = await runTqd(["workflow", "signal", "ver", "go", '{"by":"ann"}', "--server", daemon.url]);
    expect(signaled.code, signaled.stderr).toBe(0);
    const failing = await eventually(async () => {
      const view = await describeWorkflow(daemon, "ver");
      return view.workflowTask?.error?.type === "nondeterminism" ? view : undefined;
    }, "the workflow task to fail with nondeterminism");
    expect(failing.state).toBe("running");
    expect(failing.workflowTask?.error?.message).toMatch(/history has activity "noop" \(seq 1\) but the code issued timer/);
    const described = await runTqd(["workflow", "describe", "ver", "--server", daemon.url]);
    expect(described.stdout + described.stderr).toContain("nondeterminism");
    await v2[Symbol.asyncDispose]();

    await using fixed = startWorker(daemon, ["--queue", "versions"], { WORKFLOW_CODE_VERSION: "v1" });
    expect(await waitWorkflow(daemon, "ver")).toEqual({ by: "ann", version: "v1" });
    void fixed;
  }, 90_000);

  test("sticky execution: 10 sequential activities replay from history at most once per worker change", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    await using first = startWorker(daemon, ["--queue", "sticky", "--identity", "first"]);
    await first.waitForOutput(/worker started/);
    await startWorkflow(daemon, "steps", { count: 10 }, "sticky", "ten");
    expect(await waitWorkflow(daemon, "ten")).toEqual({ sum: 55 });
    expect(await workflowTaskModes(daemon)).toEqual({ fresh: 1, cached: 10, replay: 0 });

    // A worker change mid-way (the first is killed while an activity holds the workflow): the
    // next workflow task waits the sticky timeout for the dead worker, then the second worker
    // replays the history once and runs the rest from its cache.
    const holdFile = join(dir.path, "hold");
    writeFileSync(holdFile, "");
    await startWorkflow(daemon, "steps", { count: 10, holdAt: 5, holdFile }, "sticky", "ten-b");
    await eventually(() => (existsSync(`${holdFile}.started`) ? true : undefined), "the hold activity to start");
    first.kill("SIGKILL");
    await first.exited;
    rmSync(holdFile);
    await using second = startWorker(daemon, ["--queue", "sticky", "--identity", "second"]);
    expect(await waitWorkflow(daemon, "ten-b")).toEqual({ sum: 55 });
    const modes = await workflowTaskModes(daemon);
    expect(modes).toMatchObject({ fresh: 2, replay: 1 });
    expect(modes.cached).toBeGreaterThanOrEqual(10 + 5);
    void second;
  }, 90_000);
});
