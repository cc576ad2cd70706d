/**
 * Usage of `tqd workflow ...`: every usage error exits 2 and names the flag or argument before
 * any request is sent (--server points at a port nothing listens on, so a request shows up as
 * exit 3 instead), and `workflow start` builds the request the protocol expects.
 */
import { describe, expect, it } from "vitest";
import * as workflow from "../../../cmd/admin/workflow.ts";
import { buildStartRequest, checkStartFlags, renderStart } from "../../../cmd/admin/workflow-start.ts";
import { renderWorkflowCancel } from "../../../cmd/admin/workflow-control.ts";
import { EXIT } from "../../../cmd/io.ts";
import { main } from "../../../cmd/tqd.ts";
import { workflowStartRequestSchema, type WorkflowEvent, type WorkflowHistoryResponse } from "../../../lib/protocol/index.ts";
import { capturedIo, type CapturedIoOptions } from "../../support/captured-io.ts";

const NOWHERE = ["--server", "http://127.0.0.1:1"];

async function runWorkflow(args: string[], options: CapturedIoOptions = {}) {
  const captured = capturedIo(options);
  const code = await workflow.run([...args, ...NOWHERE], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("tqd workflow usage", () => {
  it.each([
    [["start", "--queue", "q"], "TYPE"],
    [["start", "bad type!", "--queue", "q"], "argument 'TYPE'"],
    [["start", "files"], "--queue"],
    [["start", "files", "--queue", "bad queue"], "--queue"],
    [["start", "files", "--queue", "q", "--id", "a/b"], "--id"],
    [["start", "files", "--queue", "q", "--if-exists", "maybe"], "--if-exists"],
    [["start", "files", "--queue", "q", "--if-exists", "return"], "--if-exists needs --id"],
    [["start", "files", "--queue", "q", "--sticky-timeout", "soon"], "--sticky-timeout"],
    [["start", "files", "--queue", "q", "--sticky-timeout", "0s"], "--sticky-timeout"],
    [["start", "files", "--queue", "q", "--timeout", "5s"], "--timeout needs --wait"],
    [["start", "files", "--queue", "q", "--wait", "--timeout", "later"], "--timeout"],
    [["start", "files", "{name:1}", "--queue", "q"], "INPUT_JSON is not valid JSON"],
    [["describe"], "ID"],
    [["describe", "a/b"], "argument 'ID'"],
    [["history", "wf-1", "--after", "-1"], "--after"],
    [["wait", "wf-1", "--timeout", "forever"], "--timeout"],
    [["cancel", "wf-1", "--reason", "x".repeat(1_001)], "--reason"],
    [["signal", "wf-1"], "NAME"],
    [["signal", "wf-1", ""], "argument 'NAME'"],
    [["signal", "wf-1", "go", "not json"], "PAYLOAD_JSON is not valid JSON"],
    [["ls", "--state", "sleeping"], "--state"],
    [["ls", "--limit", "0"], "--limit"],
    [["ls", "--queue", "a b"], "--queue"],
    [["ls", "extra"], "too many arguments"],
    [["--queue", "q"], "give the subcommand first"],
    [["run"], "unknown subcommand 'workflow run'"],
  ])("exits 2 naming the problem for %j", async (args, named) => {
    const result = await runWorkflow(args);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(named);
    expect(result.stdout).toBe("");
  });

  it("reads INPUT_JSON from stdin when it is -, and names stdin when that is not JSON", async () => {
    const result = await runWorkflow(["start", "files", "-", "--queue", "q"], { stdin: "nope" });
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/^error: INPUT_JSON \(read from stdin\) is not valid JSON/);
  });

  it.each([
    [["start", "files", '{"name":"a.csv"}', "--queue", "q", "--sticky-timeout", "2s"]],
    [["start", "files", "--queue", "q", "--id", "wf-1", "--if-exists", "new", "--wait", "--timeout", "1s"]],
    [["describe", "wf-1"]],
    [["history", "wf-1", "--after", "3"]],
    [["wait", "wf-1", "--timeout", "0s"]],
    [["cancel", "wf-1", "--reason", "superseded"]],
    [["signal", "wf-1", "approve", '{"by":"ada"}']],
    [["ls", "--queue", "files", "--state", "running", "--limit", "5"]],
  ])("accepts %j and then reaches for the server (exit 3 naming the URL)", async (args) => {
    const result = await runWorkflow(args);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:1/);
  });

  it("prints the group's help without a subcommand (exit 2) and with --help (exit 0)", async () => {
    const bare = capturedIo();
    expect(await workflow.run([], bare.io)).toBe(EXIT.usage);
    expect(bare.stderr()).toMatch(/^usage: tqd workflow <start\|describe\|history\|wait\|cancel\|signal\|ls> ARGS/);
    const help = capturedIo();
    expect(await workflow.run(["--help"], help.io)).toBe(EXIT.ok);
    expect(help.stdout()).toMatch(/^ {2}signal\s+send a signal/m);
  });

  it("is listed by tqd help", async () => {
    const captured = capturedIo();
    await main(["help"], captured.io);
    expect(captured.stdout()).toMatch(/^ {2}workflow\s+durable workflows/m);
  });
});

describe("workflow start request", () => {
  const flags = { queue: "files" };

  it("mints an id and asks for `return`, so a retried request never starts a second workflow", () => {
    const request = buildStartRequest("fileProcessing", { value: { name: "a.csv" } }, flags, () => "01MINTED");
    expect(request).toEqual({ type: "fileProcessing", queue: "files", input: { name: "a.csv" }, id: "01MINTED", ifExists: "return" });
    expect(workflowStartRequestSchema.safeParse(request).success).toBe(true);
  });

  it("sends the producer's id with its --if-exists, and --sticky-timeout as stickyTimeout", () => {
    const request = buildStartRequest("fileProcessing", undefined, { ...flags, id: "wf-1", ifExists: "new", stickyTimeout: "2s" }, () => "unused");
    expect(request).toEqual({ type: "fileProcessing", queue: "files", id: "wf-1", ifExists: "new", stickyTimeout: "2s" });
    expect(workflowStartRequestSchema.parse(request).stickyTimeout).toBe(2_000);
  });

  it("leaves ifExists to the server's default (reject) for a producer's id without --if-exists", () => {
    expect(buildStartRequest("t", undefined, { ...flags, id: "wf-1" }, () => "unused")).not.toHaveProperty("ifExists");
  });

  it("sends an input of null when INPUT_JSON is null, and none when it is absent", () => {
    expect(buildStartRequest("t", { value: null }, flags, () => "id")).toHaveProperty("input", null);
    expect(buildStartRequest("t", undefined, flags, () => "id")).not.toHaveProperty("input");
  });

  it("refuses flags that are only wrong together", () => {
    expect(checkStartFlags({ ...flags, timeout: 1_000 })).toMatch(/--timeout needs --wait/);
    expect(checkStartFlags({ ...flags, ifExists: "return" })).toMatch(/--if-exists needs --id/);
    expect(checkStartFlags({ ...flags, id: "x", ifExists: "return", wait: true, timeout: 0 })).toBeUndefined();
  });
});

describe("start and cancel answers", () => {
  const answer = { id: "wf-1", type: "fileProcessing", queue: "files", state: "running" as const, created: true };

  it("prints the id in pipes and a sentence on a terminal", () => {
    expect(renderStart(answer, false)).toBe("wf-1\n");
    expect(renderStart(answer, true)).toBe("workflow wf-1 started (fileProcessing on files)\n");
    expect(renderStart({ ...answer, created: false, state: "completed" }, false)).toBe("wf-1\n");
    expect(renderStart({ ...answer, created: false, state: "completed" }, true)).toBe("workflow wf-1 already existed (completed); not started again\n");
  });

  it("prints the workflow's new state after a cancel", () => {
    expect(renderWorkflowCancel({ id: "wf-1", state: "canceled" }, false)).toBe("canceled\n");
    expect(renderWorkflowCancel({ id: "wf-1", state: "canceled" }, true)).toBe("workflow wf-1 canceled\n");
  });
});

describe("readWholeHistory", () => {
  const event = (id: number): WorkflowEvent => ({ id, at: "t", kind: "timer.fired", seq: id });
  const page = (events: WorkflowEvent[]): WorkflowHistoryResponse => ({ id: "wf-1", type: "t", queue: "q", state: "running", lastEventId: 5, events });

  it("asks for the next page after the last event it got until it reaches the history's end", async () => {
    const asked: (number | undefined)[] = [];
    const pages = [page([event(1), event(2)]), page([event(3), event(4)]), page([event(5)])];
    const client = { workflowHistory: async (_id: string, after?: number) => (asked.push(after), pages.shift()!) };
    const history = await workflow.readWholeHistory(client, "wf-1", 0);
    expect(history.events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toEqual([undefined, 2, 4]);
  });

  it("starts after --after and stops on an empty page", async () => {
    const asked: (number | undefined)[] = [];
    const client = { workflowHistory: async (_id: string, after?: number) => (asked.push(after), page([])) };
    expect((await workflow.readWholeHistory(client, "wf-1", 3)).events).toEqual([]);
    expect(asked).toEqual([3]);
  });
});
