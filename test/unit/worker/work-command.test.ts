import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../../cmd/work.ts";
import { capturedIo } from "../../support/captured-io.ts";
import { tempDir } from "../../support/temp-dir.ts";

/** Polls `check` until it holds, failing after `deadlineMs` of real time. */
async function eventually(check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("tqd work", () => {
  it.each([
    [["handlers.ts"], "--queue"],
    [["--queue", "q"], "handlers"],
    [["--exec", "cat", "--queue", "q"], "--type"],
    [["handlers.ts", "--exec", "cat", "--type", "t", "--queue", "q"], "--exec"],
    [["handlers.ts", "--type", "t", "--queue", "q"], "--type"],
    [["handlers.ts", "--queue", "q", "--concurrency", "zero"], "--concurrency"],
    [["handlers.ts", "--queue", "q", "--grace", "later"], "--grace"],
    [["handlers.ts", "--queue", "q", "--rate", "fast"], "--rate"],
    [["handlers.ts", "--queue", "q", "--queue-rate", "10"], "--queue-rate"],
    [["handlers.ts", "--queue", "q", "--host", ""], "--host"],
    [["handlers.ts", "--queue", "q", "--poll-wait", "forever"], "--poll-wait"],
    [["handlers.ts", "--queue", "files@host:web-1"], "--queue"],
  ])("exits 2 naming the problem for %j", async (args, named) => {
    const cli = capturedIo();
    expect(await run(args, cli.io)).toBe(2);
    expect(cli.stderr()).toContain(named);
  });

  it("exits 2 naming the handlers file when it is missing", async () => {
    await using dir = await tempDir();
    const cli = capturedIo();
    expect(await run([join(dir.path, "missing.ts"), "--queue", "q"], cli.io)).toBe(2);
    expect(cli.stderr()).toContain(join(dir.path, "missing.ts"));
  });

  it("documents its flags and defaults in --help", async () => {
    const cli = capturedIo();
    expect(await run(["--help"], cli.io)).toBe(0);
    for (const text of ["--queue", "--concurrency", "--grace", "--exec", "--type", "--identity", "--host", "--rate", "--queue-rate", "--poll-wait", "TQD_SERVER", "default 10", "Exit code 100 fails it without retry", "Q@host:HOST", "TQD_HOST_QUEUE", "TQD_WORKER_QUEUE"]) {
      expect(cli.stdout()).toContain(text);
    }
  });

  it("keeps running while the server is unreachable, and exits 0 on a shutdown signal", async () => {
    const cli = capturedIo({ env: { TQD_SERVER: "http://127.0.0.1:1" } });
    const exit = run(["--exec", "cat", "--type", "echo", "--queue", "q", "--identity", "test"], cli.io);
    await eventually(() => cli.stderr().includes("server unreachable"));
    cli.raiseSignal("SIGTERM");
    expect(await exit).toBe(0);
    expect(cli.stderr()).toContain("worker started");
    expect(cli.stderr()).toContain("worker stopped");
    expect(cli.stderr().match(/server unreachable/g)).toHaveLength(1);
  });
});
