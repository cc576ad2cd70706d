/**
 * The real process's output (cmd/io.ts): written through the runtime's file sink, in order and
 * whole even when the reader is slow, and the terminal check that asks `node:tty` only about
 * character devices. The writes run in a child process, since they go to its own descriptors.
 */
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isTerminal } from "../../../cmd/io.ts";
import { tempDir } from "../../support/temp-dir.ts";

const IO_MODULE = join(import.meta.dirname, "../../../cmd/io.ts");

/** Runs `body` in a child Bun with `io` (processIo) in scope; its stdout and stderr are pipes. */
async function runChild(body: string, readStdout: (stream: ReadableStream<Uint8Array>) => Promise<string> = (s) => new Response(s).text()) {
  const script = `import { processIo } from ${JSON.stringify(IO_MODULE)};\nconst io = processIo();\n${body}`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([readStdout(child.stdout), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
}

describe("processIo", () => {
  it("writes every line in order, all of them before the exit, past what the pipe holds", async () => {
    const lines = 20_000;
    // 2 MB: far more than a pipe holds, so most of it waits in the sink while the loop runs.
    const { stdout, stderr, code } = await runChild(`for (let i = 0; i < ${lines}; i++) io.stdout.write(i + " " + "x".repeat(100) + "\\n");\nio.stderr.write("done\\n");`);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe("done\n");
    const got = stdout.trimEnd().split("\n");
    expect(got).toHaveLength(lines);
    expect(got.every((line, i) => line.startsWith(`${i} `))).toBe(true);
  });

  it("reports pipes as not a terminal, and stops quietly with 141 when the reader goes", async () => {
    // Writes of 16 KiB a millisecond apart, as a command's batches come: the gone reader's
    // EPIPE comes back through the promise of a write that queued its data, not only a flush's.
    const { stdout, stderr, code } = await runChild(
      `io.stderr.write(String(io.stdout.isTTY) + " " + String(io.stderr.isTTY) + "\\n");\nconst chunk = "y".repeat(16 * 1024);\nfor (let i = 0; i < 5_000; i++) { io.stdout.write(chunk); await new Promise((r) => setTimeout(r, 1)); }`,
      async (stream) => {
        const reader = stream.getReader();
        const first = await reader.read();
        await reader.cancel();
        return first.done ? "" : "read";
      },
    );
    expect(stdout).toBe("read");
    expect(stderr).toBe("false false\n");
    expect(code).toBe(141);
  });

  it("sends a line as soon as it is written, not when the process ends", async () => {
    const script = `import { processIo } from ${JSON.stringify(IO_MODULE)};\nprocessIo("drop").stderr.write("started\\n");\nsetTimeout(() => undefined, 60_000);`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" });
    try {
      const reader = child.stderr.getReader();
      const deadline = new Promise<"deadline">((resolve) => setTimeout(() => resolve("deadline"), 10_000).unref());
      const first = await Promise.race([reader.read(), deadline]);
      expect(first === "deadline" ? first : new TextDecoder().decode(first.value)).toBe("started\n");
    } finally {
      child.kill();
      await child.exited;
    }
  });
});

describe("isTerminal", () => {
  it("is false for a regular file and for /dev/null (a character device that is not a terminal)", async () => {
    await using dir = await tempDir();
    const file = openSync(join(dir.path, "out.txt"), "w");
    const devNull = openSync("/dev/null", "w");
    try {
      expect(isTerminal(file)).toBe(false);
      expect(isTerminal(devNull)).toBe(false);
    } finally {
      closeSync(file);
      closeSync(devNull);
    }
  });

  it("is false for a descriptor that is not open", () => {
    expect(isTerminal(987_654)).toBe(false);
  });
});
