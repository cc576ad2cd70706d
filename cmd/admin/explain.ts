/**
 * `tqd explain ID [--json]`: one line naming what a task waits for (a delay, a retry backoff, a
 * paused queue, a rate limit, no worker for its type, tasks ahead of it...), as the server words
 * it, followed by ` (until TIME)` when the wait has a known end. `--json` prints
 * `{id, state, reason, message, until?}`; `reason` is a stable code for scripts. Exit 0 for any
 * task (running and final ones are explained too); 1 with `error: not_found: ...` for an unknown id.
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { WAIT_REASONS } from "../../lib/protocol/index.ts";
import { taskIdArgument } from "./argument-parsers.ts";
import { renderExplain } from "./render-queue-controls.ts";

interface ExplainFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("explain", io)
      .description("say in one line what a task that is not running waits for")
      .addArgument(taskIdArgument())
      .option("--json", "print {id, state, reason, message, until?} as one JSON line")
      .action((taskId: string) => void (id = taskId)),
  ).addHelpText(
    "after",
    `\nreasons (--json): ${WAIT_REASONS.join(", ")}\n\nexamples:\n  tqd explain 01J9ZK3M\n  tqd explain 01J9ZK3M --json | jq -r .reason\n`,
  );
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<ExplainFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.explain(id);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderExplain(answer));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
