/**
 * Usage errors of the routing flags of `tqd enqueue` and of `tqd route`: each exits 2 and names
 * the flag or argument before any request is sent (--server points at a port nothing listens
 * on, so a request would show up as exit 3 instead).
 */
import { describe, expect, it } from "vitest";
import * as enqueue from "../../../cmd/admin/enqueue.ts";
import * as route from "../../../cmd/admin/route.ts";
import { EXIT } from "../../../cmd/io.ts";
import { main } from "../../../cmd/tqd.ts";
import { capturedIo } from "../../support/captured-io.ts";

const NOWHERE = ["--server", "http://127.0.0.1:1"];

async function runCommand(command: { run: typeof enqueue.run }, args: string[]) {
  const captured = capturedIo();
  const code = await command.run([...args, ...NOWHERE], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("tqd enqueue routing flags", () => {
  it.each([
    [["q", "t", "--header", "tenant"], "--header"],
    [["q", "t", "--header", "=acme"], "--header"],
    [["q", "t", "--header", "bad name=x"], "--header"],
    [["q", "t", "--header", "a=1", "--header", "a=2"], "--header a is given twice"],
    [["q", "t", "--fallback-after", "soon"], "--fallback-after"],
    [["q", "t", "--fallback-after", "0s"], "--fallback-after"],
    [["q@host:h1", "t", "--fallback-after", "10s", "--fallback-queue", "bad queue"], "--fallback-queue"],
    [["q@host:h1", "t", "--fallback-queue", "q"], "--fallback-queue needs --fallback-after"],
    [["q", "t", "--fallback-after", "10s"], "--fallback-after needs --fallback-queue"],
  ])("exits 2 naming the flag for %j", async (args, named) => {
    const result = await runCommand(enqueue, args);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(named);
    expect(result.stdout).toBe("");
  });

  it("accepts a header value containing '=' and reaches for the server", async () => {
    const result = await runCommand(enqueue, ["q@host:h1", "t", "--header", "expr=a=b", "--fallback-after", "10s"]);
    expect(result.code).toBe(EXIT.unreachable);
  });
});

describe("tqd route usage", () => {
  it("prints its help on stderr and exits 2 without a subcommand, on stdout with --help", async () => {
    const bare = capturedIo();
    expect(await route.run([], bare.io)).toBe(EXIT.usage);
    expect(bare.stderr()).toContain("usage: tqd route <add|ls|rm|test|history|rollback>");
    const help = capturedIo();
    expect(await route.run(["--help"], help.io)).toBe(EXIT.ok);
    expect(help.stdout()).toContain("tqd route add images --to images-canary");
  });

  it("names an unknown subcommand, and a flag given before the subcommand", async () => {
    expect((await runCommand(route, ["list", "q"])).stderr).toContain("unknown subcommand 'route list'");
    expect((await runCommand(route, ["--to", "x"])).stderr).toContain("give the subcommand first");
  });

  it.each([
    [["add", "q"], "missing --to"],
    [["add", "q", "--to", "bad queue"], "--to"],
    [["add", "q", "--to", "q"], "--to q is the queue the rule belongs to"],
    [["add", "q", "--to", "r", "--type", "re size"], "--type"],
    [["add", "q", "--to", "r", "--header", "tier"], "--header"],
    [["add", "q", "--to", "r", "--header", "a=1", "--header", "a=1"], "--header a is given twice"],
    [["add", "q", "--to", "r", "--percent", "101"], "--percent"],
    [["add", "q", "--to", "r", "--percent", "ten"], "--percent"],
    [["add", "q", "--to", "r", "--by", "tenant"], "--by needs --percent"],
    [["add", "q", "--to", "r", "--percent", "5", "--by", "bad header"], "--by"],
    [["add", "q", "--to", "r", "--fallback-after", "later"], "--fallback-after"],
    [["add", "q", "--to", "r", "--expect-version", "-1"], "--expect-version"],
    [["add", "q", "--to", "r", "--expect-version", "two"], "--expect-version"],
    [["add", "bad queue", "--to", "r"], "QUEUE"],
    [["ls"], "QUEUE"],
    [["rm", "q"], "RULE"],
    [["rm", "q", "r 1"], "RULE"],
    [["rm", "q", "r1", "--expect-version", "x"], "--expect-version"],
    [["test", "q"], "missing --type"],
    [["test", "q", "--type", "a b"], "--type"],
    [["test", "q", "--type", "t", "--header", "x"], "--header"],
    [["test", "q", "--type", "t", "--id", "a/b"], "--id"],
    [["history"], "QUEUE"],
    [["rollback", "q"], "VERSION"],
    [["rollback", "q", "v2"], "VERSION"],
  ])("exits 2 naming the problem for %j", async (args, named) => {
    const result = await runCommand(route, args);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(named);
    expect(result.stdout).toBe("");
  });

  it("accepts a percentage with a % sign and a fallback of 0 (never), then reaches for the server", async () => {
    const result = await runCommand(route, ["add", "q", "--to", "r", "--percent", "2.5%", "--fallback-after", "0", "--by", "tenant"]);
    expect(result.code).toBe(EXIT.unreachable);
  });

  it("is listed by tqd help", async () => {
    const captured = capturedIo();
    await main(["help"], captured.io);
    expect(captured.stdout()).toMatch(/route\s+traffic-routing rules of a queue/);
  });
});
