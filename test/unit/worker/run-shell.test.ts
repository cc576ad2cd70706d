import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../lib/clock/clock.ts";
import { ExitCodeError, NON_RETRYABLE_EXIT_CODE, shellHandler, STDERR_TAIL_BYTES, TaskAbortedError, type TaskContext } from "../../../lib/worker/index.ts";
import { tempDir } from "../../support/temp-dir.ts";

const baseEnv = { PATH: process.env.PATH, BASE_VAR: "kept" };

function context(signal = new AbortController().signal): TaskContext {
  return {
    taskId: "t-1",
    queue: "media",
    type: "resize",
    attempt: 2,
    lastHeartbeat: undefined,
    headers: {},
    hostQueue: "media@host:web-1",
    workerQueue: "media@worker:web-1:42",
    signal,
    leaseDeadline: new Date(),
    heartbeat: async () => {},
    completeLater: () => "tqd1~t-1~token",
  };
}

function run(command: string, input: unknown, ctx = context()): Promise<unknown> {
  return Promise.resolve(shellHandler({ command, env: baseEnv, cwd: process.cwd(), clock: systemClock })(input, ctx));
}

/** Polls `check` until it holds, failing after `deadlineMs` of real time. */
async function eventually(check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("shellHandler (--exec)", () => {
  it("writes the input JSON to stdin and parses JSON stdout as the result", async () => {
    expect(await run("cat", { width: 640, tags: ["a"] })).toEqual({ width: 640, tags: ["a"] });
  });

  it("a command that never reads its input, however large, just ends its task; a large input reaches one that does", async () => {
    const big = { data: "x".repeat(2_000_000) };
    for (let i = 0; i < 10; i++) expect(await run("echo done", big)).toBe("done");
    expect(await run("wc -c", big)).toBe(JSON.stringify(big).length);
  });

  it("keeps stdout that is not JSON as a string, without its final newline", async () => {
    expect(await run("echo 'resized 3 images'", null)).toBe("resized 3 images");
  });

  it("has no result when stdout is empty", async () => {
    expect(await run("true", null)).toBeUndefined();
  });

  it("sets TQD_TASK_ID, TQD_TASK_TYPE, TQD_QUEUE, TQD_ATTEMPT and the own queues on top of the worker's environment", async () => {
    const command = `printf '%s|%s|%s|%s|%s|%s|%s' "$TQD_TASK_ID" "$TQD_TASK_TYPE" "$TQD_QUEUE" "$TQD_ATTEMPT" "$TQD_HOST_QUEUE" "$TQD_WORKER_QUEUE" "$BASE_VAR"`;
    expect(await run(command, null)).toBe("t-1|resize|media|2|media@host:web-1|media@worker:web-1:42|kept");
  });

  it("fails a non-zero exit with the exit code and the tail of stderr", async () => {
    const command = `echo first-line >&2; head -c 5000 /dev/zero | tr '\\0' x >&2; echo; echo last-line >&2; exit 3`;
    const error = await run(command, null).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ExitCodeError);
    const exit = error as ExitCodeError;
    expect(exit.name).toBe("ExitCode");
    expect(exit.exitCode).toBe(3);
    expect(exit.message).toContain("exited with code 3");
    expect(exit.message).toContain("last-line");
    expect(exit.message).not.toContain("first-line");
    expect(exit.message.length).toBeLessThan(STDERR_TAIL_BYTES + 100);
  });

  it(`marks exit code ${NON_RETRYABLE_EXIT_CODE} non-retryable, and other non-zero codes retryable`, async () => {
    const final = await run(`echo 'bad input' >&2; exit ${NON_RETRYABLE_EXIT_CODE}`, null).catch((thrown: unknown) => thrown);
    expect(final).toMatchObject({ name: "ExitCode", exitCode: NON_RETRYABLE_EXIT_CODE, nonRetryable: true });
    expect((final as Error).message).toContain("bad input");
    const transient = await run("exit 1", null).catch((thrown: unknown) => thrown);
    expect(transient).toMatchObject({ name: "ExitCode", exitCode: 1, nonRetryable: false });
  });

  it("kills the command and what it started when the task's signal aborts", async () => {
    await using dir = await tempDir();
    const pidFile = join(dir.path, "pid");
    const controller = new AbortController();
    const running = run(`sleep 30 & echo $! > '${pidFile}'; wait`, null, context(controller.signal));
    // The redirect creates the file before echo writes the pid into it: wait for the number, or
    // a read in between gives 0, and "process 0" (our own group) never dies.
    await eventually(() => existsSync(pidFile) && /^\d+\n$/.test(readFileSync(pidFile, "utf8")));
    const sleepPid = Number((await readFile(pidFile, "utf8")).trim());
    expect(sleepPid).toBeGreaterThan(1);
    controller.abort(new TaskAbortedError("worker-stopped", "stopping"));
    await expect(running).rejects.toBeInstanceOf(TaskAbortedError);
    await eventually(() => !isAlive(sleepPid));
  });
});

// A killed process stays a zombie until its new parent (init) reaps it; that counts as dead.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/^\d+ \(.*\) Z/.test(stat);
}
