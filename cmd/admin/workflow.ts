/**
 * `tqd workflow start|describe|history|wait|cancel|signal|ls`: durable workflow executions. The
 * first argument picks the subcommand; each is its own commander program, so its usage errors
 * and --help name its own flags. Formats: render-workflow.ts (describe, ls),
 * render-workflow-history.ts (history), workflow-wait.ts (wait and start --wait).
 */
import { Option } from "commander";
import { LIMITS, WORKFLOW_STATES, type WorkflowEvent, type WorkflowHistoryResponse, type WorkflowState } from "../../lib/protocol/index.ts";
import type { TqdClient } from "../../lib/client/index.ts";
import { addClientOptions, reportClientError } from "../client-command.ts";
import { integerOption, newCommand } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseDurationMs, parseQueueName } from "./argument-parsers.ts";
import { renderHistoryHuman, renderHistoryPlain } from "./render-workflow-history.ts";
import { renderWorkflowHuman, renderWorkflowListHuman, renderWorkflowListPlain, renderWorkflowPlain } from "./render-workflow.ts";
import { prepareClientCommand, runGroup, type SubcommandGroup } from "./subcommand-group.ts";
import { workflowIdArgument } from "./workflow-arguments.ts";
import { runCancel, runSignal } from "./workflow-control.ts";
import * as start from "./workflow-start.ts";
import { waitForWorkflowAndReport } from "./workflow-wait.ts";

interface CommonFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

const GROUP: SubcommandGroup = {
  name: "workflow",
  operand: "ARGS",
  subcommands: {
    start: { summary: "start a workflow (TYPE [INPUT_JSON] --queue Q); --wait for its result", run: start.run },
    describe: { summary: "show a workflow: state, workflow task, pending activities, timers, sessions, what it waits for", run: runDescribe },
    history: { summary: "list a workflow's events, one line each", run: runHistory },
    wait: { summary: "wait for a workflow to close; print its result (exit 0) or its error (exit 1)", run: runWait },
    cancel: { summary: "cancel a running workflow", run: runCancel },
    signal: { summary: "send a signal (NAME [PAYLOAD_JSON]) to a running workflow", run: runSignal },
    ls: { summary: "list workflows, newest first (--queue, --state, --limit)", run: runList },
  },
  about: "Workflows are durable functions of a handlers module's `workflows` export (tqd work runs them).",
  examples: [
    "tqd workflow start fileProcessing '{\"name\":\"a.csv\"}' --queue files --wait",
    "tqd workflow describe 01J9ZK3M",
    "tqd workflow history 01J9ZK3M",
    "tqd workflow signal 01J9ZK3M approve '{\"by\":\"ada\"}'",
    "tqd workflow ls --queue files --state running",
  ],
};

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runGroup(GROUP, args, io);
}

async function runDescribe(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("workflow describe", io)
      .description("show a workflow: `key value` lines in pipes, a summary and tables on a terminal")
      .addArgument(workflowIdArgument())
      .option("--json", "print the workflow as one JSON line (the protocol's WorkflowView)")
      .action((workflowId: string) => void (id = workflowId)),
  ).addHelpText("after", "\nexamples:\n  tqd workflow describe 01J9ZK3M\n  tqd workflow describe 01J9ZK3M | awk '$1 == \"activity\" {print $4}'   # activity task ids\n");
  const prepared = prepareClientCommand<CommonFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const view = await client.getWorkflow(id);
    if (flags.json) io.stdout.write(JSON.stringify(view) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderWorkflowHuman(view, Date.now()) : renderWorkflowPlain(view));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runHistory(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("workflow history", io)
      .description("list a workflow's events, oldest first: `ID AT KIND key=value ...` per line")
      .addArgument(workflowIdArgument())
      .option("--after <n>", "only the events after event N", integerOption(0, Number.MAX_SAFE_INTEGER))
      .option("--json", "print {id, type, queue, state, lastEventId, events} as one JSON line")
      .action((workflowId: string) => void (id = workflowId)),
  ).addHelpText("after", "\nexamples:\n  tqd workflow history 01J9ZK3M\n  tqd workflow history 01J9ZK3M | awk '$3 == \"activity.failed\"'\n");
  const prepared = prepareClientCommand<CommonFlags & { after?: number }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const history = await readWholeHistory(client, id, flags.after ?? 0);
    if (flags.json) io.stdout.write(JSON.stringify(history) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderHistoryHuman(history.events) : renderHistoryPlain(history.events));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

/** The server answers the history in pages; this asks for the next one until the last event. */
export async function readWholeHistory(client: Pick<TqdClient, "workflowHistory">, id: string, after: number): Promise<WorkflowHistoryResponse> {
  const first = await client.workflowHistory(id, after === 0 ? undefined : after);
  const events: WorkflowEvent[] = [...first.events];
  let page = first;
  for (;;) {
    const lastSeen = events.at(-1)?.id ?? after;
    if (page.events.length === 0 || lastSeen >= page.lastEventId) break;
    page = await client.workflowHistory(id, lastSeen);
    events.push(...page.events);
  }
  return { ...page, events };
}

async function runWait(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("workflow wait", io)
      .description("wait for a workflow to close; print its result (exit 0) or its error (exit 1)")
      .addArgument(workflowIdArgument())
      .option("--timeout <duration>", "give up after this long with exit 4 (e.g. 30s, 5m; default: no limit)", parseDurationMs)
      .option("--json", "print the closed workflow as one JSON line (the protocol's WorkflowView)")
      .action((workflowId: string) => void (id = workflowId)),
  ).addHelpText("after", "\nexamples:\n  tqd workflow wait 01J9ZK3M --timeout 10m | jq .\n");
  const prepared = prepareClientCommand<CommonFlags & { timeout?: number }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  return waitForWorkflowAndReport(client, id, io, { timeoutMs: flags.timeout, json: flags.json === true });
}

async function runList(args: readonly string[], io: CliIo): Promise<number> {
  const program = addClientOptions(
    newCommand("workflow ls", io)
      .description("list workflows, newest first")
      .option("--queue <queue>", "only workflows of this queue", parseQueueName)
      .addOption(new Option("--state <state>", "only workflows in this state").choices(WORKFLOW_STATES))
      .option("--limit <n>", `list at most this many (1-${LIMITS.listLimit})`, integerOption(1, LIMITS.listLimit))
      .option("--json", 'print {"workflows":[...]} as one JSON line'),
  ).addHelpText("after", "\nplain columns: id type queue state createdAt closedAt (closedAt is - while running)\n");
  const prepared = prepareClientCommand<CommonFlags & { queue?: string; state?: WorkflowState; limit?: number }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const filter: { queue?: string; state?: WorkflowState; limit?: number } = {};
    if (flags.queue !== undefined) filter.queue = flags.queue;
    if (flags.state !== undefined) filter.state = flags.state;
    if (flags.limit !== undefined) filter.limit = flags.limit;
    const answer = await client.listWorkflows(filter);
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderWorkflowListHuman(answer.workflows) : renderWorkflowListPlain(answer.workflows));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
