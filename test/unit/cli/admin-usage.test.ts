/**
 * Usage errors of the admin commands: each exits 2 and names the flag or argument, before any
 * request is sent (the --server below points at a port nothing listens on, so a request would
 * show up as exit 3 instead).
 */
import { describe, expect, it } from "vitest";
import * as enqueue from "../../../cmd/admin/enqueue.ts";
import * as get from "../../../cmd/admin/get.ts";
import * as queues from "../../../cmd/admin/queues.ts";
import * as wait from "../../../cmd/admin/wait.ts";
import { EXIT } from "../../../cmd/io.ts";
import { capturedIo, type CapturedIoOptions } from "../../support/captured-io.ts";

const NOWHERE = ["--server", "http://127.0.0.1:1"];

async function runCommand(
  command: { run: typeof enqueue.run },
  args: string[],
  options: CapturedIoOptions = {},
) {
  const captured = capturedIo(options);
  const code = await command.run([...args, ...NOWHERE], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("tqd enqueue usage", () => {
  it("names QUEUE when it is missing", async () => {
    const result = await runCommand(enqueue, []);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/QUEUE/);
  });

  it("names TYPE when it is missing", async () => {
    const result = await runCommand(enqueue, ["hello"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/TYPE/);
  });

  it("refuses a queue name outside the grammar and names QUEUE", async () => {
    const result = await runCommand(enqueue, ["bad queue", "greet"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'QUEUE'/);
    expect(result.stderr).toMatch(/queue names are/);
  });

  it("refuses a task type outside the grammar and names TYPE", async () => {
    const result = await runCommand(enqueue, ["hello", "gr eet"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'TYPE'/);
  });

  it("refuses an --id containing a slash and names --id", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--id", "a/b"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--id/);
  });

  it("refuses INPUT_JSON that is not JSON and names it", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "{name:Ada}"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/^error: INPUT_JSON is not valid JSON: /);
  });

  it("refuses stdin that is not JSON when INPUT_JSON is -", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "-"], { stdin: "not json" });
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/^error: INPUT_JSON \(read from stdin\) is not valid JSON/);
  });

  it("refuses --timeout without --wait", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--timeout", "5s"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe("error: --timeout needs --wait (it limits the wait)\n");
  });

  it("refuses a malformed --timeout and names the flag", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--wait", "--timeout", "5 minutes"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--timeout/);
  });

  it("refuses a zero --timeout-run and names the flag", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--timeout-run", "0s"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--timeout-run/);
    expect(result.stderr).toMatch(/positive/);
  });

  it("refuses a fourth positional argument", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "{}", "extra"]);
    expect(result.code).toBe(EXIT.usage);
  });

  it("prints help on stdout and exits 0", async () => {
    const result = await runCommand(enqueue, ["--help"]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/--timeout-run <duration>/);
  });
});

describe("tqd get/wait/queues usage", () => {
  it("get names ID when it is missing", async () => {
    const result = await runCommand(get, []);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/ID/);
  });

  it("get refuses an id outside the grammar", async () => {
    const result = await runCommand(get, ["a b"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'ID'/);
  });

  it("wait refuses a malformed --timeout and names the flag", async () => {
    const result = await runCommand(wait, ["task-1", "--timeout", "soon"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--timeout/);
  });

  it("queues refuses positional arguments", async () => {
    const result = await runCommand(queues, ["extra"]);
    expect(result.code).toBe(EXIT.usage);
  });

  it("refuses an invalid --server and names the flag", async () => {
    const captured = capturedIo();
    const code = await queues.run(["--server", "ftp://example"], captured.io);
    expect(code).toBe(EXIT.usage);
    expect(captured.stderr()).toMatch(/--server/);
  });

  it("rejects unknown flags", async () => {
    const result = await runCommand(queues, ["--jsn"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--jsn/);
  });
});

describe("unreachable server", () => {
  it.each([
    ["enqueue", enqueue, ["hello", "greet", '{"name":"Ada"}']],
    ["get", get, ["task-1"]],
    ["wait", wait, ["task-1"]],
    ["queues", queues, []],
  ] as const)("%s exits 3 and names the URL", async (_name, command, args) => {
    const result = await runCommand(command, [...args]);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:1/);
    expect(result.stdout).toBe("");
  });

  it("takes the URL from TQD_SERVER when --server is absent", async () => {
    const captured = capturedIo({ env: { TQD_SERVER: "http://127.0.0.1:1" } });
    const code = await queues.run([], captured.io);
    expect(code).toBe(EXIT.unreachable);
    expect(captured.stderr()).toMatch(/127\.0\.0\.1:1/);
  });
});
