/**
 * Usage errors of the admin commands: each exits 2 and names the flag or argument, before any
 * request is sent (the --server below points at a port nothing listens on, so a request would
 * show up as exit 3 instead).
 */
import { describe, expect, it } from "vitest";
import * as cancel from "../../../cmd/admin/cancel.ts";
import * as complete from "../../../cmd/admin/complete.ts";
import * as dead from "../../../cmd/admin/dead.ts";
import * as enqueue from "../../../cmd/admin/enqueue.ts";
import * as fail from "../../../cmd/admin/fail.ts";
import * as get from "../../../cmd/admin/get.ts";
import * as queues from "../../../cmd/admin/queues.ts";
import * as wait from "../../../cmd/admin/wait.ts";
import { EXIT } from "../../../cmd/io.ts";
import { main } from "../../../cmd/tqd.ts";
import { encodeCompletionToken } from "../../../lib/protocol/index.ts";
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

describe("tqd enqueue lifecycle flags", () => {
  it.each([
    ["--priority", ["--priority", "6"], /--priority.*from 1 to 5/],
    ["--priority", ["--priority", "high"], /--priority/],
    ["--delay", ["--delay", "0s"], /--delay.*positive/],
    ["--delay", ["--delay", "soon"], /--delay/],
    ["--at", ["--at", "2026-10-01 12:00"], /--at.*ISO 8601 time with a UTC offset/],
    ["--timeout-start", ["--timeout-start", "5 minutes"], /--timeout-start/],
    ["--timeout-total", ["--timeout-total", "0ms"], /--timeout-total.*positive/],
    ["--heartbeat", ["--heartbeat", "x"], /--heartbeat/],
    ["--retries", ["--retries", "-1"], /--retries.*from 0 to 9999/],
    ["--retries", ["--retries", "10000"], /--retries/],
    ["--backoff", ["--backoff", "1s,0.5"], /--backoff.*COEFFICIENT/],
    ["--backoff", ["--backoff", "1m,2,1s"], /--backoff.*MAX \(1s\) must not be below INITIAL \(1m\)/],
    ["--non-retryable", ["--non-retryable", ""], /--non-retryable/],
    ["--if-exists", ["--if-exists", "maybe", "--id", "x"], /--if-exists.*reject, return, new/],
  ])("refuses a bad %s and names it", async (_flag, flagArgs, message) => {
    const result = await runCommand(enqueue, ["hello", "greet", ...flagArgs]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("refuses --delay together with --at", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--delay", "1m", "--at", "2026-10-01T12:00:00Z"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--delay and --at/);
  });

  it("refuses --if-exists without --id", async () => {
    const result = await runCommand(enqueue, ["hello", "greet", "--if-exists", "new"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--if-exists needs --id/);
  });

  it("documents that --retries 0 runs the task once", async () => {
    const result = await runCommand(enqueue, ["--help"]);
    expect(result.stdout).toMatch(/--retries 0 runs the task once/);
    for (const flag of ["--delay", "--at", "--priority", "--timeout-start", "--timeout-total", "--heartbeat", "--backoff", "--non-retryable", "--if-exists"]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe("tqd cancel/complete/fail usage", () => {
  const token = encodeCompletionToken({ taskId: "task-1", leaseToken: "LEASE1" });

  it("cancel names ID when it is missing", async () => {
    const result = await runCommand(cancel, []);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/ID/);
  });

  it("cancel refuses a --reason over 1,000 characters", async () => {
    const result = await runCommand(cancel, ["task-1", "--reason", "x".repeat(1_001)]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--reason/);
  });

  it.each([
    ["complete", complete, ["task-1:LEASE"]],
    ["fail", fail, ["tqd1~task-1", "--type", "E", "--message", "m"]],
  ] as const)("%s says TOKEN is not a completion token", async (_name, command, args) => {
    const result = await runCommand(command, [...args]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'TOKEN'.*not a completion token/);
  });

  it("complete refuses RESULT_JSON that is not JSON and names it", async () => {
    const result = await runCommand(complete, [token, "{oops"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/^error: RESULT_JSON is not valid JSON/);
  });

  it("fail requires --type and --message", async () => {
    const noType = await runCommand(fail, [token, "--message", "m"]);
    expect(noType.code).toBe(EXIT.usage);
    expect(noType.stderr).toMatch(/--type/);
    const noMessage = await runCommand(fail, [token, "--type", "E"]);
    expect(noMessage.code).toBe(EXIT.usage);
    expect(noMessage.stderr).toMatch(/--message/);
  });
});

describe("tqd dead usage", () => {
  it("prints its subcommands on stderr and exits 2 without one", async () => {
    const captured = capturedIo();
    expect(await dead.run([], captured.io)).toBe(EXIT.usage);
    expect(captured.stderr()).toMatch(/ls\s.*\n\s+requeue\s.*\n\s+purge\s/);
  });

  it("asks for the subcommand first when a flag comes first", async () => {
    const result = await runCommand(dead, ["--json", "ls", "q"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/give the subcommand first/);
  });

  it("names an unknown subcommand", async () => {
    const result = await runCommand(dead, ["list", "q"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/'dead list'/);
  });

  it("ls names QUEUE when it is missing and refuses a bad --limit", async () => {
    expect((await runCommand(dead, ["ls"])).stderr).toMatch(/QUEUE/);
    const result = await runCommand(dead, ["ls", "q", "--limit", "0"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--limit/);
  });

  it("requeue needs ids or --all, not both and not neither", async () => {
    const neither = await runCommand(dead, ["requeue", "q"]);
    expect(neither).toMatchObject({ code: EXIT.usage, stderr: "error: name the task ids to requeue, or give --all\n" });
    const both = await runCommand(dead, ["requeue", "q", "t1", "--all"]);
    expect(both).toMatchObject({ code: EXIT.usage, stderr: "error: give task ids or --all, not both\n" });
  });

  it("requeue refuses an id outside the grammar", async () => {
    const result = await runCommand(dead, ["requeue", "q", "ok", "a/b"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'ID/);
  });

  it("purge refuses a bad --older and names it", async () => {
    const result = await runCommand(dead, ["purge", "q", "--older", "a week"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--older/);
  });

  it("prints a subcommand's help on stdout and exits 0", async () => {
    const result = await runCommand(dead, ["requeue", "--help"]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/--all/);
  });
});

describe("tqd help", () => {
  it("lists the lifecycle commands with their summaries", async () => {
    const captured = capturedIo();
    expect(await main(["help"], captured.io)).toBe(EXIT.ok);
    for (const name of ["cancel", "complete", "fail", "dead"]) expect(captured.stdout()).toMatch(new RegExp(`^  ${name}\\s+\\S`, "m"));
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
    ["cancel", cancel, ["task-1"]],
    ["dead ls", dead, ["ls", "q"]],
    ["dead requeue", dead, ["requeue", "q", "--all"]],
    ["dead purge", dead, ["purge", "q"]],
    ["complete", complete, [encodeCompletionToken({ taskId: "task-1", leaseToken: "L" })]],
    ["fail", fail, [encodeCompletionToken({ taskId: "task-1", leaseToken: "L" }), "--type", "E", "--message", "m"]],
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
