/**
 * `tqd workflow start TYPE [INPUT_JSON | -] --queue Q [--id ID [--if-exists reject|return|new]]
 * [--sticky-timeout DUR] [--wait [--timeout DUR]] [--json]`: starts a workflow execution.
 *
 * INPUT_JSON is read as by `tqd enqueue` (JSON text, or `-` for stdin). Prints the id in pipes,
 * a sentence on a terminal, the server's answer with --json. With --wait it then behaves like
 * `tqd workflow wait` (exit 0 completed, 1 failed or canceled, 4 timed out).
 *
 * Without --id the CLI mints a time-sortable id (task-id.ts) and sends it with ifExists
 * `return`, so the client may retry the request after a transport failure and never starts a
 * second execution: an id that already exists can only be our own earlier try.
 */
import { Argument, Option } from "commander";
import { IF_EXISTS, type WorkflowStartRequest, type WorkflowStartResponse } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseDurationMs, parsePositiveDuration, parseQueueName, readJsonInput } from "./argument-parsers.ts";
import { newTaskId } from "./task-id.ts";
import { parseWorkflowId, parseWorkflowType } from "./workflow-arguments.ts";
import { waitForWorkflowAndReport } from "./workflow-wait.ts";

export interface WorkflowStartFlags {
  queue: string;
  id?: string;
  ifExists?: "reject" | "return" | "new";
  stickyTimeout?: string;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
  server?: string;
  token?: string;
}

const HELP_AFTER = `
A workflow id is an idempotency key, like a task id: starting a running workflow's id again
returns it (created: false); an id whose workflow is closed is refused (409) unless
--if-exists return (answer with it) or new (start it over).

examples:
  tqd workflow start fileProcessing '{"name":"a.csv"}' --queue files
  echo '{"name":"a.csv"}' | tqd workflow start fileProcessing - --queue files --wait --timeout 10m
  tqd workflow start report '{"month":"2026-10"}' --queue reports --id report-2026-10 --if-exists return
`;

function startCommand(io: CliIo, parsed: { type: string; input: string | undefined }) {
  return addClientOptions(
    newCommand("workflow start", io)
      .description("start a workflow; print its id, or with --wait its result JSON")
      .addArgument(new Argument("<TYPE>", "workflow type (a key of the handlers module's `workflows`)").argParser(parseWorkflowType))
      .addArgument(new Argument("[INPUT_JSON]", "workflow input as JSON, or - to read it from stdin"))
      .requiredOption("--queue <queue>", "task queue of the workflow's tasks (its workers poll it)", parseQueueName)
      .option("--id <id>", "workflow id (default: a new time-sortable id)", parseWorkflowId)
      .addOption(new Option("--if-exists <mode>", "when --id names a closed workflow: reject (409), return it, or new (start over)").choices(IF_EXISTS))
      .option("--sticky-timeout <duration>", "how long a workflow task waits for the worker that has the workflow cached, then goes to any worker (default: tqd serve --sticky-timeout, 5s)", parsePositiveDuration)
      .option("--wait", "wait for the workflow to close and print its result (exit 1 if it does not complete)")
      .option("--timeout <duration>", "with --wait: give up after this long with exit 4 (default: no limit)", parseDurationMs)
      .option("--json", "print the start answer (or with --wait the closed workflow) as one JSON line")
      .action((type: string, input: string | undefined) => void Object.assign(parsed, { type, input })),
  ).addHelpText("after", HELP_AFTER);
}

/** Flags that are only wrong together; the usage message, or undefined. */
export function checkStartFlags(flags: WorkflowStartFlags): string | undefined {
  if (flags.timeout !== undefined && !flags.wait) return "--timeout needs --wait (it limits the wait)";
  if (flags.ifExists !== undefined && flags.id === undefined) return "--if-exists needs --id (a new id never exists)";
  return undefined;
}

/** The request: the producer's --id, or a minted one answered with `return` (see the header). */
export function buildStartRequest(type: string, input: { value: unknown } | undefined, flags: WorkflowStartFlags, mintId: () => string): WorkflowStartRequest {
  const request: WorkflowStartRequest = { type, queue: flags.queue };
  if (input) request.input = input.value;
  if (flags.id === undefined) {
    request.id = mintId();
    request.ifExists = "return";
  } else {
    request.id = flags.id;
    if (flags.ifExists !== undefined) request.ifExists = flags.ifExists;
  }
  if (flags.stickyTimeout !== undefined) request.stickyTimeout = flags.stickyTimeout;
  return request;
}

/** The id in pipes; a sentence on a terminal. */
export function renderStart(answer: WorkflowStartResponse, human: boolean): string {
  if (!human) return answer.id + "\n";
  if (answer.created) return `workflow ${answer.id} started (${answer.type} on ${answer.queue})\n`;
  return `workflow ${answer.id} already existed (${answer.state}); not started again\n`;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed: { type: string; input: string | undefined } = { type: "", input: undefined };
  const program = startCommand(io, parsed);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<WorkflowStartFlags>();
  const combinationError = checkStartFlags(flags);
  if (combinationError) return usageError(io, combinationError);
  const input = await readJsonInput(parsed.input, () => io.readStdin());
  if (input && !input.ok) return usageError(io, input.message);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  const request = buildStartRequest(parsed.type, input, flags, () => newTaskId(Date.now()));
  let id: string;
  try {
    const answer = await client.startWorkflow(request);
    id = answer.id;
    if (!flags.wait) {
      io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderStart(answer, io.stdout.isTTY));
      return EXIT.ok;
    }
  } catch (error) {
    return reportClientError(io, error);
  }
  return waitForWorkflowAndReport(client, id, io, { timeoutMs: flags.timeout, json: flags.json === true });
}
