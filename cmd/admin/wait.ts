/**
 * `tqd wait ID [--timeout DUR] [--json]`: blocks until the task is final. Prints the result
 * JSON and exits 0 when it completed; prints its error on stderr and exits 1 when it failed;
 * exits 4 when --timeout (default: no limit) runs out first. See task-wait.ts for the formats.
 */
import { addClientOptions, clientFromFlags } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import type { CliIo } from "../io.ts";
import { parseDurationMs, taskIdArgument } from "./argument-parsers.ts";
import { waitAndReport } from "./task-wait.ts";

interface WaitFlags {
  timeout?: number;
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("wait", io)
      .description("wait for a task to finish; print its result (exit 0) or its error (exit 1)")
      .addArgument(taskIdArgument())
      .option("--timeout <duration>", "give up after this long with exit 4 (e.g. 30s, 5m; default: no limit)", parseDurationMs)
      .option("--json", "print the final task as one JSON line (the protocol's TaskView)")
      .action((taskId: string) => void (id = taskId)),
  ).addHelpText("after", "\nexamples:\n  tqd wait 01J9ZK3M --timeout 5m | jq .\n");
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<WaitFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  return waitAndReport(client, id, io, { timeoutMs: flags.timeout, json: flags.json === true });
}
