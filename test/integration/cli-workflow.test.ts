/**
 * `tqd workflow ...` and `tqd explain` for workflows against a real in-process server (port 0,
 * temp data dir). No worker runs the workflows, so they stay running, which is all describe,
 * signal, cancel and ls need; where a test needs a workflow to complete, it leases the workflow
 * task and answers it with a completeWorkflow command, standing in for a worker.
 */
import { describe, expect, it } from "vitest";
import * as explain from "../../cmd/admin/explain.ts";
import * as workflow from "../../cmd/admin/workflow.ts";
import { EXIT } from "../../cmd/io.ts";
import type { TqdClient } from "../../lib/client/index.ts";
import { workflowTaskInputSchema, workflowTaskType, type WorkflowTaskCompleteRequest } from "../../lib/protocol/index.ts";
import { capturedIo, type CapturedIoOptions } from "../support/captured-io.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

async function tqd(url: string, command: { run: typeof workflow.run }, args: string[], options: CapturedIoOptions = {}) {
  const captured = capturedIo({ ...options, env: { TQD_SERVER: url, ...options.env } });
  const code = await command.run(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const wf = (server: TestServer, args: string[], options?: CapturedIoOptions) => tqd(server.url, workflow, args, options);

/** Leases the workflow task of `type` on `queue` and completes the workflow with `result`. */
async function completeWorkflow(server: TestServer, client: TqdClient, queue: string, type: string, result: unknown): Promise<void> {
  const [task] = await client.poll(queue, { identity: "test-worker", types: [workflowTaskType(type)], waitMs: 5_000 });
  if (!task) throw new Error(`no workflow task on ${queue}`);
  const { workflowId } = workflowTaskInputSchema.parse(task.input);
  const history = await client.workflowHistory(workflowId);
  const body: WorkflowTaskCompleteRequest = {
    taskId: task.id,
    leaseToken: task.leaseToken,
    seenUpTo: history.lastEventId,
    commands: [{ kind: "completeWorkflow", result }],
    mode: "fresh",
  };
  const response = await fetch(`${server.url}/v1/workflows/${encodeURIComponent(workflowId)}/task-complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`task-complete answered ${response.status}: ${await response.text()}`);
}

describe("tqd workflow start", () => {
  it("prints a minted id, and the same --id again returns the running workflow", async () => {
    await using server = await startTestServer();
    const minted = await wf(server, ["start", "fileProcessing", '{"name":"a.csv"}', "--queue", "files"]);
    expect(minted).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(minted.stdout).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}\n$/);
    const first = await wf(server, ["start", "fileProcessing", "--queue", "files", "--id", "wf-1", "--json"]);
    expect(JSON.parse(first.stdout)).toEqual({ id: "wf-1", type: "fileProcessing", queue: "files", state: "running", created: true });
    const again = await wf(server, ["start", "fileProcessing", "--queue", "files", "--id", "wf-1", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: "wf-1", created: false });
  });

  it("reads the input from stdin when INPUT_JSON is -", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "report", "-", "--queue", "reports", "--id", "r1"], { stdin: '{"month":"2026-10"}' });
    expect(JSON.parse((await wf(server, ["describe", "r1", "--json"])).stdout)).toMatchObject({ input: { month: "2026-10" } });
  });

  it("with --wait prints the result once the workflow completes", async () => {
    await using server = await startTestServer();
    const waiting = wf(server, ["start", "greet", '{"name":"Ada"}', "--queue", "hello", "--id", "g1", "--wait", "--timeout", "30s"]);
    await completeWorkflow(server, server.client, "hello", "greet", { greeting: "Hello, Ada!" });
    expect(await waiting).toEqual({ code: EXIT.ok, stdout: '{"greeting":"Hello, Ada!"}\n', stderr: "" });
  });

  it("with --wait exits 4 when the timeout runs out first", async () => {
    await using server = await startTestServer();
    const result = await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1", "--wait", "--timeout", "100ms"]);
    expect(result.code).toBe(EXIT.timeout);
    expect(result.stderr).toBe("error: timed out after 100ms waiting for workflow g1 (state: running)\n");
  });

  it("refuses a closed workflow's id (exit 1) unless --if-exists return", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1"]);
    await wf(server, ["cancel", "g1"]);
    const refused = await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1"]);
    expect(refused.code).toBe(EXIT.failure);
    expect(refused.stderr).toMatch(/^error: conflict: /);
    const returned = await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1", "--if-exists", "return", "--json"]);
    expect(JSON.parse(returned.stdout)).toMatchObject({ id: "g1", state: "canceled", created: false });
  });
});

describe("tqd workflow describe, history, signal, ls", () => {
  it("describes a running workflow: its state and its pending workflow task", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "fileProcessing", '{"name":"a.csv"}', "--queue", "files", "--id", "wf-1"]);
    const plain = await wf(server, ["describe", "wf-1"]);
    expect(plain.code).toBe(EXIT.ok);
    expect(plain.stdout).toMatch(/^id wf-1\ntype fileProcessing\nqueue files\nstate running\ncreatedAt \S+\nlastEventId 1\ninput \{"name":"a.csv"\}\n/);
    expect(plain.stdout).toMatch(/^workflowTask \S+ files\S* pending \d+$/m);
    const human = await wf(server, ["describe", "wf-1"], { isTTY: true });
    expect(human.stdout).toMatch(/^workflow: +wf-1$/m);
    expect(human.stdout).toMatch(/^workflow task: +\S+ on files\S*, pending, attempt \d+$/m);
  });

  it("lists the history, with a signal once it is sent", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "fileProcessing", '{"name":"a.csv"}', "--queue", "files", "--id", "wf-1"]);
    const signaled = await wf(server, ["signal", "wf-1", "approve", '{"by":"ada"}']);
    expect(signaled).toEqual({ code: EXIT.ok, stdout: "2\n", stderr: "" });
    const history = await wf(server, ["history", "wf-1"]);
    expect(history.code).toBe(EXIT.ok);
    expect(history.stdout).toMatch(/^1 \S+ workflow\.started type=fileProcessing queue=files input=\{"name":"a.csv"\}\n2 \S+ signal\.received name=approve payload=\{"by":"ada"\}\n$/);
    const after = JSON.parse((await wf(server, ["history", "wf-1", "--after", "1", "--json"])).stdout);
    expect(after).toMatchObject({ id: "wf-1", lastEventId: 2, events: [{ id: 2, kind: "signal.received", name: "approve" }] });
  });

  it("lists workflows newest first, filtered by queue and state", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "t", "--queue", "a", "--id", "a1"]);
    await wf(server, ["start", "t", "--queue", "b", "--id", "b1"]);
    await wf(server, ["start", "t", "--queue", "a", "--id", "a2"]);
    await wf(server, ["cancel", "a1"]);
    const all = await wf(server, ["ls", "--queue", "a"]);
    expect(all.stdout.split("\n").filter(Boolean).map((line) => line.split(" ")[0])).toEqual(["a2", "a1"]);
    expect(all.stdout).toMatch(/^a2 t a running \S+ -$/m);
    const running = await wf(server, ["ls", "--state", "running", "--json"]);
    expect(JSON.parse(running.stdout).workflows.map((w: { id: string }) => w.id).sort()).toEqual(["a2", "b1"]);
    expect((await wf(server, ["ls", "--limit", "1"])).stdout.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("exits 1 with not_found for an unknown workflow", async () => {
    await using server = await startTestServer();
    for (const args of [["describe", "nope"], ["history", "nope"], ["signal", "nope", "go"], ["cancel", "nope"]]) {
      const result = await wf(server, args);
      expect(result.code, args.join(" ")).toBe(EXIT.failure);
      expect(result.stderr).toMatch(/^error: not_found: /);
    }
  });
});

describe("tqd workflow cancel and wait", () => {
  it("cancels a running workflow, after which wait exits 1 with its error and a second cancel is refused", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1"]);
    expect(await wf(server, ["wait", "g1", "--timeout", "0s"])).toMatchObject({ code: EXIT.timeout });
    expect(await wf(server, ["cancel", "g1", "--reason", "superseded"])).toEqual({ code: EXIT.ok, stdout: "canceled\n", stderr: "" });
    const waited = await wf(server, ["wait", "g1"]);
    expect(waited.code).toBe(EXIT.failure);
    expect(JSON.parse(waited.stderr)).toMatchObject({ type: expect.any(String), message: expect.any(String) });
    expect((await wf(server, ["history", "g1"])).stdout).toMatch(/workflow\.canceled reason=superseded$/m);
    expect((await wf(server, ["cancel", "g1"])).code).toBe(EXIT.failure);
    expect((await wf(server, ["signal", "g1", "go"])).code).toBe(EXIT.failure);
  });

  it("wait prints the result of a completed workflow and exits 0", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1"]);
    await completeWorkflow(server, server.client, "hello", "greet", 42);
    expect(await wf(server, ["wait", "g1"])).toEqual({ code: EXIT.ok, stdout: "42\n", stderr: "" });
    expect(JSON.parse((await wf(server, ["wait", "g1", "--json"])).stdout)).toMatchObject({ id: "g1", state: "completed", result: 42 });
  });
});

describe("tqd explain for workflows", () => {
  it("explains a workflow id that is not a task id, and exits 1 when neither exists", async () => {
    await using server = await startTestServer();
    await wf(server, ["start", "greet", "--queue", "hello", "--id", "g1"]);
    const plain = await tqd(server.url, explain, ["g1"]);
    expect(plain.code).toBe(EXIT.ok);
    expect(plain.stdout).toMatch(/^[^\n]+\n(blockedOn .+\n|pending \S+ \S+ .+\n)*$/);
    const answer = JSON.parse((await tqd(server.url, explain, ["g1", "--json"])).stdout);
    expect(answer).toMatchObject({ id: "g1", state: "running", reason: expect.any(String), blockedOn: expect.any(Array), pending: expect.any(Array) });
    const missing = await tqd(server.url, explain, ["nope"]);
    expect(missing).toEqual({ code: EXIT.failure, stdout: "", stderr: "error: not_found: no task or workflow has the id nope\n" });
  });
});
