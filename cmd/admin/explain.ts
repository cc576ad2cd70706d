/**
 * `tqd explain ID [--json]`: one line naming what a task waits for (a delay, a retry backoff, a
 * paused queue, a rate limit, no worker for its type, tasks ahead of it...), as the server words
 * it, followed by ` (until TIME)` when the wait has a known end. `--json` prints
 * `{id, state, reason, message, until?}`; `reason` is a stable code for scripts. Exit 0 for any
 * task (running and final ones are explained too); 1 with `error: not_found: ...` for an unknown id.
 *
 * Workflows: one rule, tasks first. The id is looked up as a task; only when the task route
 * answers not_found is it looked up as a workflow (GET /v1/workflows/{id}/explain), whose answer
 * is the message line followed by what the workflow code waits for and one line per live task
 * (render-workflow.ts). An id that names both a task and a workflow is explained as the task.
 */
import { TqdApiError, type TqdClient } from "../../lib/client/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { WAIT_REASONS, type ExplainResponse, type WorkflowExplainResponse } from "../../lib/protocol/index.ts";
import { taskIdArgument } from "./argument-parsers.ts";
import { renderExplain } from "./render-queue-controls.ts";
import { renderWorkflowExplain } from "./render-workflow.ts";

interface ExplainFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("explain", io)
      .description("say in one line what a task that is not running waits for (or what a workflow waits for)")
      .addArgument(taskIdArgument())
      .option("--json", "print {id, state, reason, message, until?} (a workflow: {id, state, reason, message, blockedOn, pending}) as one JSON line")
      .action((taskId: string) => void (id = taskId)),
  ).addHelpText(
    "after",
    `\nreasons (--json): ${WAIT_REASONS.join(", ")}\n\nAn id that is not a task is looked up as a workflow.\n\nexamples:\n  tqd explain 01J9ZK3M\n  tqd explain 01J9ZK3M --json | jq -r .reason\n`,
  );
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<ExplainFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await explainTaskOrWorkflow(client, id);
    if (flags.json) io.stdout.write(JSON.stringify(answer.explained) + "\n");
    else io.stdout.write(answer.kind === "task" ? renderExplain(answer.explained) : renderWorkflowExplain(answer.explained, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

type Explained = { kind: "task"; explained: ExplainResponse } | { kind: "workflow"; explained: WorkflowExplainResponse };

/** Tasks first: the workflow route is asked only when no task has this id (see the header). */
async function explainTaskOrWorkflow(client: Pick<TqdClient, "explain" | "explainWorkflow">, id: string): Promise<Explained> {
  try {
    return { kind: "task", explained: await client.explain(id) };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    return { kind: "workflow", explained: await client.explainWorkflow(id) };
  } catch (error) {
    if (isNotFound(error)) throw new TqdApiError(404, "not_found", `no task or workflow has the id ${id}`);
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof TqdApiError && error.code === "not_found";
}
