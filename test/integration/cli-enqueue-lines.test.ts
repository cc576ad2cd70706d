/** `tqd enqueue --lines` against a real in-process server (port 0, temp data dir). */
import { describe, expect, it } from "vitest";
import * as enqueue from "../../cmd/admin/enqueue.ts";
import { EXIT } from "../../cmd/io.ts";
import { enqueueResponseSchema } from "../../lib/protocol/index.ts";
import { capturedIo, type CapturedIoOptions } from "../support/captured-io.ts";
import { startTestServer } from "../support/test-server.ts";

async function tqd(url: string, args: string[], options: CapturedIoOptions = {}) {
  const captured = capturedIo({ ...options, env: { TQD_SERVER: url, ...options.env } });
  const code = await enqueue.run(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const linesOf = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i })).join("\n") + "\n";
const idsOf = (stdout: string) => stdout.split("\n").filter((line) => line !== "");

describe("tqd enqueue --lines", () => {
  it("enqueues a task per line, in order, printing one id per line, the typo guard's warning once", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, ["files", "process", "--lines"], { stdin: linesOf(2_500) });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const ids = idsOf(result.stdout);
    expect(ids).toHaveLength(2_500);
    expect(new Set(ids).size).toBe(2_500);
    expect(result.stderr.match(/^warning: /gm)).toHaveLength(1);
    for (const i of [0, 999, 1_000, 2_499]) expect(await server.client.getTask(ids[i]!)).toMatchObject({ queue: "files", type: "process", state: "pending", input: { n: i } });
    // Dispatched in the order of the lines.
    const leased = [];
    while (leased.length < 2_500) leased.push(...(await server.client.poll("files", { identity: "w", types: ["process"], max: 100, waitMs: 0 })));
    expect(leased.map((task) => task.id)).toEqual(ids);
  });

  it("applies the task flags to every line; --json prints each enqueue answer", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, ["reports", "build", "-", "--lines", "--json", "--priority", "1", "--delay", "1h", "--retries", "0"], { stdin: '{"m":1}\n{"m":2}\n' });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const answers = idsOf(result.stdout).map((line) => enqueueResponseSchema.parse(JSON.parse(line)));
    expect(answers).toMatchObject([
      { queue: "reports", type: "build", state: "scheduled", created: true },
      { queue: "reports", type: "build", state: "scheduled", created: true },
    ]);
    const task = await server.client.getTask(answers[1]!.id);
    expect(task).toMatchObject({ priority: 1, input: { m: 2 }, retryPolicy: { maxAttempts: 1 } });
  });

  it("sends nothing when a line is not JSON, naming the line (exit 2)", async () => {
    await using server = await startTestServer();
    const result = await tqd(server.url, ["files", "process", "--lines"], { stdin: linesOf(10) + "not json\n" + linesOf(5) });
    expect(result).toMatchObject({ code: EXIT.usage, stdout: "" });
    expect(result.stderr).toMatch(/line 11 of stdin is not valid JSON/);
    expect((await server.client.listQueues()).queues).toEqual([]);
  });

  it("refuses flags that name one task (exit 2, the flag named); an empty stdin enqueues nothing", async () => {
    await using server = await startTestServer();
    for (const [args, flag] of [
      [["'{}'"], "INPUT_JSON"],
      [["--id", "job-1"], "--id"],
      [["--wait"], "--wait"],
    ] as const) {
      const result = await tqd(server.url, ["files", "process", "--lines", ...args], { stdin: "{}\n" });
      expect(result.code, result.stderr).toBe(EXIT.usage);
      expect(result.stderr).toContain(flag);
    }
    expect(await tqd(server.url, ["files", "process", "--lines"], { stdin: "" })).toEqual({ code: EXIT.ok, stdout: "", stderr: "" });
    expect((await server.client.listQueues()).queues).toEqual([]);
  });

  it("halves a batch the server finds too large, until it fits", async () => {
    await using server = await startTestServer({ maxBodyBytes: 20 * 1024 });
    const stdin = Array.from({ length: 300 }, (_, i) => JSON.stringify({ n: i, pad: "x".repeat(150) })).join("\n");
    const result = await tqd(server.url, ["files", "process", "--lines"], { stdin });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const ids = idsOf(result.stdout);
    expect(ids).toHaveLength(300);
    expect(await server.client.getTask(ids[299]!)).toMatchObject({ input: { n: 299 } });
  });

  it("stops at a task the server refuses: stdout holds exactly the tasks enqueued before it (exit 1)", async () => {
    await using server = await startTestServer({ maxBodyBytes: 20 * 1024 });
    const stdin = linesOf(150) + JSON.stringify({ huge: "x".repeat(30 * 1024) }) + "\n" + linesOf(20, 151);
    const result = await tqd(server.url, ["files", "process", "--lines"], { stdin });
    expect(result.code).toBe(EXIT.failure);
    const ids = idsOf(result.stdout);
    expect(ids).toHaveLength(150);
    expect(result.stderr).toMatch(/payload_too_large/);
    expect(result.stderr).toMatch(/150 of 171 tasks were enqueued/);
    expect(await server.client.describe("files")).toMatchObject({ counts: { pending: 150 } });
    expect(await server.client.getTask(ids[149]!)).toMatchObject({ input: { n: 149 } });
  });

  it("Ctrl-C stops after the batch in flight: its ids are printed, exit 130, and nothing more is sent", async () => {
    await using server = await startTestServer();
    const captured = capturedIo({ stdin: linesOf(20_000), env: { TQD_SERVER: server.url } });
    const running = enqueue.run(["files", "process", "--lines"], captured.io);
    const deadline = Date.now() + 20_000;
    while (captured.stdout() === "" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    captured.raiseSignal("SIGINT");
    expect(await running).toBe(130);
    const ids = idsOf(captured.stdout());
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(20_000);
    expect(ids.length % 1_000).toBe(0);
    expect(captured.stderr()).toContain(`stopped by SIGINT: ${ids.length} of 20000 tasks were enqueued`);
    expect(await server.client.describe("files")).toMatchObject({ counts: { pending: ids.length } });
  });

  it("exits 3 naming the server when it cannot be reached, with nothing enqueued", async () => {
    const result = await tqd("http://127.0.0.1:9", ["files", "process", "--lines"], { stdin: linesOf(3) });
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(result.stderr).toMatch(/0 of 3 tasks were enqueued/);
  });
});
