/**
 * Task routing through the compiled binary: the file-processing example (examples/fileprocessing)
 * with three workers standing for three hosts (`--host`), driven by its run.sh. The workers run
 * the example's handlers instrumented by fixtures/fileprocessing-handlers.ts, which log each
 * completed step with its host and can hold a file's `process` step until the test lets go.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { startHostWorkers } from "./fixtures/host-workers.ts";
import { runTqd, startDaemon, TQD_BIN } from "../support/tqd-process.ts";

const HANDLERS = resolve(import.meta.dirname, "fixtures/fileprocessing-handlers.ts");
const RUN_SH = resolve(import.meta.dirname, "../../examples/fileprocessing/run.sh");

interface Driver {
  exited: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Runs run.sh with `files`, `tqd` being the binary under test. */
function runScript(files: readonly string[], env: Record<string, string>): Driver {
  const child = spawn("bash", [RUN_SH, ...files], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TQD: TQD_BIN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number; stdout: string; stderr: string }>((resolveExit) =>
    child.on("close", (code) => resolveExit({ code: code ?? 1, stdout, stderr })),
  );
  return { exited };
}

/** `FILE ok HOST` lines of run.sh, by file. */
function hostsByFile(stdout: string): Map<string, string> {
  const done = new Map<string, string>();
  for (const line of stdout.trim().split("\n")) {
    const [file, status, host] = line.split(" ");
    if (file && status === "ok" && host) done.set(file, host);
  }
  return done;
}

describe("routing (binary)", () => {
  test("file processing: every file's steps run on one host, and a file whose host dies mid-chain restarts elsewhere", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    await using hosts = await startHostWorkers(dir.path, HANDLERS, daemon.url, 6);
    const { outDir, stepLog } = hosts;

    // f07's process step waits for the test: its host's worker is killed while it runs.
    const files = Array.from({ length: 20 }, (_, n) => `f${String(n).padStart(2, "0")}`);
    hosts.hold("f07");
    const driver = runScript(files, {
      TQD_SERVER: daemon.url,
      OUT_DIR: outDir,
      START_TIMEOUT: "2s",
      RUN_TIMEOUT: "3s",
      WAIT_TIMEOUT: "1m",
      PARALLEL: "4",
    });
    const doomedHost = await hosts.killHostOf("f07");

    const { code, stdout, stderr } = await driver.exited;
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const done = hostsByFile(stdout);
    expect([...done.keys()].sort()).toEqual(files);
    expect(done.get("f07")).not.toBe(doomedHost);
    expect(stderr).toMatch(/f07: process on files@host:\S+ failed \(try 1\); starting over/);

    const steps = readFileSync(stepLog, "utf8").trim().split("\n");
    for (const [file, host] of done) {
      // The chain that completed ran all three steps on the host that reported the upload...
      for (const step of ["download", "process", "upload"]) expect(steps, `${step} ${file} ${host}`).toContain(`${step} ${file} ${host}`);
      // ...and the uploaded file was made there from the file downloaded there.
      expect(readFileSync(join(outDir, `${file}.processed`), "utf8")).toBe(`${file} downloaded on ${host}\nprocessed on ${host}\n`);
    }
    expect(steps.filter((line) => line.startsWith("process f07 "))).toEqual([`process f07 ${done.get("f07")}`]);

    // Pollers of the host and worker queues show up in describe like any other.
    const described = await runTqd(["describe", `files@host:${done.get("f07")}`, "--json", "--server", daemon.url]);
    expect(JSON.parse(described.stdout).pollers).toEqual([expect.objectContaining({ identity: `${done.get("f07")}-worker` })]);
  }, 120_000);
});
