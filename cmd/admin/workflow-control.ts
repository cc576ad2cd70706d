/**
 * The `tqd workflow` subcommands that change a running workflow:
 * - `cancel ID [--reason TEXT] [--json]`: prints the workflow's new state (`canceled`) in pipes,
 *   a sentence on a terminal. A closed or unknown workflow is the server's conflict/not_found,
 *   exit 1.
 * - `signal ID NAME [PAYLOAD_JSON | -] [--json]`: appends a signal; prints the history's last
 *   event id after it (the signal's event) in pipes, a sentence on a terminal. Never retried on a
 *   transport failure: a retry could deliver the signal twice.
 */
import { Argument } from "commander";
import { workflowCancelRequestSchema, type WorkflowCancelResponse, type WorkflowSignalRequest } from "../../lib/protocol/index.ts";
import { addClientOptions, reportClientError } from "../client-command.ts";
import { newCommand, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { readJsonInput } from "./argument-parsers.ts";
import { prepareClientCommand } from "./subcommand-group.ts";
import { parseSignalName, workflowIdArgument } from "./workflow-arguments.ts";

interface CommonFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

/** Longest reason the protocol accepts. */
const MAX_REASON_CHARS = 1_000;

export function renderWorkflowCancel(answer: WorkflowCancelResponse, human: boolean): string {
  if (!human) return answer.state + "\n";
  return answer.state === "canceled" ? `workflow ${answer.id} canceled\n` : `workflow ${answer.id} is ${answer.state}\n`;
}

export async function runCancel(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("workflow cancel", io)
      .description("cancel a running workflow: it closes canceled and its pending activities are canceled")
      .addArgument(workflowIdArgument())
      .option("--reason <text>", `why (recorded in the history; at most ${MAX_REASON_CHARS} characters)`)
      .option("--json", "print the server's answer {id, state} as one JSON line")
      .action((workflowId: string) => void (id = workflowId)),
  ).addHelpText("after", '\nexamples:\n  tqd workflow cancel 01J9ZK3M --reason "superseded"\n');
  const prepared = prepareClientCommand<CommonFlags & { reason?: string }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  if (flags.reason !== undefined && !workflowCancelRequestSchema.shape.reason.safeParse(flags.reason).success) {
    return usageError(io, `--reason is longer than ${MAX_REASON_CHARS} characters`);
  }
  try {
    const answer = await client.cancelWorkflow(id, flags.reason);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderWorkflowCancel(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

export async function runSignal(args: readonly string[], io: CliIo): Promise<number> {
  const parsed: { id: string; name: string; payload: string | undefined } = { id: "", name: "", payload: undefined };
  const program = addClientOptions(
    newCommand("workflow signal", io)
      .description("send a signal to a running workflow (its code waits for it with ctx.signal(NAME))")
      .addArgument(workflowIdArgument())
      .addArgument(new Argument("<NAME>", "signal name (1-255 characters)").argParser(parseSignalName))
      .addArgument(new Argument("[PAYLOAD_JSON]", "signal payload as JSON, or - to read it from stdin"))
      .option("--json", "print the server's answer {id, lastEventId} as one JSON line")
      .action((id: string, name: string, payload: string | undefined) => void Object.assign(parsed, { id, name, payload })),
  ).addHelpText("after", "\nexamples:\n  tqd workflow signal 01J9ZK3M approve '{\"by\":\"ada\"}'\n  tqd workflow signal 01J9ZK3M resume\n");
  const prepared = prepareClientCommand<CommonFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  const payload = await readJsonInput(parsed.payload, () => io.readStdin(), "PAYLOAD_JSON");
  if (payload && !payload.ok) return usageError(io, payload.message);
  const request: WorkflowSignalRequest = payload ? { name: parsed.name, payload: payload.value } : { name: parsed.name };
  try {
    const answer = await client.signalWorkflow(parsed.id, request);
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(io.stdout.isTTY ? `signal ${parsed.name} sent to workflow ${answer.id} (event ${answer.lastEventId})\n` : `${answer.lastEventId}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
