/**
 * `tqd get ID [--json]`: shows one task. Exit 0 whatever the task's state (use `tqd wait` to
 * turn the outcome into an exit code); 1 with `error: not_found: ...` for an unknown id.
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { taskIdArgument } from "./argument-parsers.ts";
import { renderTaskHuman, renderTaskPlain } from "./render-task.ts";

interface GetFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("get", io)
      .description("show a task: `key value` lines in pipes, aligned on a terminal")
      .addArgument(taskIdArgument())
      .option("--json", "print the task as one JSON line (the protocol's TaskView)")
      .action((taskId: string) => void (id = taskId)),
  ).addHelpText("after", "\nexamples:\n  tqd get 01J9ZK3M --json | jq .state\n  tqd get 01J9ZK3M | awk '$1 == \"state\" {print $2}'\n");
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<GetFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const task = await client.getTask(id);
    if (flags.json) io.stdout.write(JSON.stringify(task) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderTaskHuman(task) : renderTaskPlain(task));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
