/**
 * Usage errors of the queue administration commands (limit, pause, resume, fairness, describe,
 * explain, queues --prefix, enqueue --fairness-key): each exits 2 and names the flag or argument
 * before any request is sent (the --server below points at a port nothing listens on, so a
 * request would show up as exit 3 instead).
 */
import { describe, expect, it } from "vitest";
import * as describeQueue from "../../../cmd/admin/describe.ts";
import * as enqueue from "../../../cmd/admin/enqueue.ts";
import * as explain from "../../../cmd/admin/explain.ts";
import * as fairness from "../../../cmd/admin/fairness.ts";
import { fairnessRequestFrom } from "../../../cmd/admin/fairness.ts";
import * as limit from "../../../cmd/admin/limit.ts";
import { limitRequestFrom } from "../../../cmd/admin/limit.ts";
import * as pause from "../../../cmd/admin/pause.ts";
import * as queues from "../../../cmd/admin/queues.ts";
import * as resume from "../../../cmd/admin/resume.ts";
import { EXIT } from "../../../cmd/io.ts";
import { main } from "../../../cmd/tqd.ts";
import { capturedIo } from "../../support/captured-io.ts";

const NOWHERE = ["--server", "http://127.0.0.1:1"];

async function runCommand(command: { run: typeof limit.run }, args: string[]) {
  const captured = capturedIo();
  const code = await command.run([...args, ...NOWHERE], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("tqd limit usage", () => {
  it.each([
    ["a rate that is not one", ["q", "--rate", "fast"], /--rate.*expected a rate such as 50\/s, 3000\/m or 10\/h/],
    ["a rate without a unit", ["q", "--rate", "50"], /--rate/],
    ["a zero rate", ["q", "--rate", "0/s"], /--rate/],
    ["a zero burst", ["q", "--rate", "5/s", "--burst", "0"], /--burst/],
    ["a fractional burst", ["q", "--rate", "5/s", "--burst", "1.5"], /--burst/],
    ["no --rate and no --clear", ["q"], /missing --rate/],
    ["--burst alone", ["q", "--burst", "5"], /missing --rate/],
    ["--clear with --rate", ["q", "--clear", "--rate", "5/s"], /--clear removes the limit/],
    ["a bad queue name", ["bad queue", "--clear"], /argument 'QUEUE'/],
  ])("refuses %s and names the problem", async (_case, args, message) => {
    const result = await runCommand(limit, args);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("builds the request: the rate as given, the burst when set, or a clear", () => {
    expect(limitRequestFrom({ rate: "50/s" })).toEqual({ rate: "50/s" });
    expect(limitRequestFrom({ rate: "10/m", burst: 1 })).toEqual({ rate: "10/m", burst: 1 });
    expect(limitRequestFrom({ clear: true })).toEqual({ clear: true });
  });
});

describe("tqd pause and resume usage", () => {
  it.each([
    ["pause", pause],
    ["resume", resume],
  ] as const)("%s names QUEUE when it is missing", async (_name, command) => {
    const result = await runCommand(command, []);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/QUEUE/);
  });

  it("resume prints its own help", async () => {
    const captured = capturedIo();
    expect(await resume.run(["--help"], captured.io)).toBe(EXIT.ok);
    expect(captured.stdout()).toMatch(/^Usage: tqd resume/);
  });
});

describe("tqd fairness usage", () => {
  it.each([
    ["no --key", ["q", "--weight", "2"], /missing --key/],
    ["nothing to change", ["q", "--key", "acme"], /give --weight, --key-rate or --clear-rate/],
    ["--key-rate with --clear-rate", ["q", "--key", "acme", "--key-rate", "5/s", "--clear-rate"], /--key-rate or --clear-rate, not both/],
    ["a bad --key-rate", ["q", "--key", "acme", "--key-rate", "fast"], /--key-rate.*expected a rate/],
    ["a zero --weight", ["q", "--key", "acme", "--weight", "0"], /--weight.*from 1 to 1000/],
    ["an empty --key", ["q", "--key", "", "--weight", "2"], /--key/],
  ])("refuses %s and names the problem", async (_case, args, message) => {
    const result = await runCommand(fairness, args);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
  });

  it("builds the request, sending a cleared rate as null", () => {
    expect(fairnessRequestFrom({ key: "acme", weight: 3 })).toEqual({ key: "acme", weight: 3 });
    expect(fairnessRequestFrom({ key: "acme", keyRate: "5/s" })).toEqual({ key: "acme", rate: "5/s" });
    expect(fairnessRequestFrom({ key: "acme", clearRate: true })).toEqual({ key: "acme", rate: null });
  });
});

describe("tqd describe, explain, queues --prefix and enqueue --fairness-key usage", () => {
  it("describe names QUEUE when it is missing or malformed", async () => {
    expect((await runCommand(describeQueue, [])).stderr).toMatch(/QUEUE/);
    const result = await runCommand(describeQueue, ["a b"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'QUEUE'/);
  });

  it("explain names ID when it is missing or malformed", async () => {
    expect((await runCommand(explain, [])).code).toBe(EXIT.usage);
    const result = await runCommand(explain, ["a/b"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/argument 'ID'/);
  });

  it("queues refuses a --prefix no queue name could start with", async () => {
    const result = await runCommand(queues, ["--prefix", "bad prefix"]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--prefix/);
  });

  it("enqueue refuses an empty --fairness-key", async () => {
    const result = await runCommand(enqueue, ["q", "t", "--fairness-key", ""]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--fairness-key/);
  });

  it.each([
    ["describe", describeQueue, ["q"]],
    ["explain", explain, ["task-1"]],
    ["limit", limit, ["q", "--rate", "5/s"]],
    ["pause", pause, ["q"]],
    ["resume", resume, ["q"]],
    ["fairness", fairness, ["q", "--key", "k", "--weight", "2"]],
    ["queues --prefix", queues, ["--prefix", "q"]],
  ] as const)("%s exits 3 naming the URL when the server is unreachable", async (_name, command, args) => {
    const result = await runCommand(command, [...args]);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:1/);
  });
});

describe("tqd help", () => {
  it("lists the queue administration commands with their summaries", async () => {
    const captured = capturedIo();
    expect(await main(["help"], captured.io)).toBe(EXIT.ok);
    for (const name of ["describe", "explain", "limit", "pause", "resume", "fairness"]) {
      expect(captured.stdout()).toMatch(new RegExp(`^  ${name}\\s+\\S`, "m"));
    }
  });
});
