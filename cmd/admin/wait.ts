/**
 * `tqd wait ID [--timeout DUR] [--json]`: blocks until the task is final. Prints the result
 * JSON and exits 0 when it completed; prints its error on stderr and exits 1 when it failed;
 * exits 4 when --timeout (default: no limit) runs out first. See task-wait.ts for the formats.
 * With several ids, or `-` to read them from stdin one per line, it waits for each in order and
 * prints a line per task (wait-many.ts).
 */
import { Argument } from "commander";
import { addClientOptions, clientFromFlags } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import type { CliIo } from "../io.ts";
import { parseDurationMs, parseTaskId } from "./argument-parsers.ts";
import { waitAndReport } from "./task-wait.ts";
import { parseIdLines, waitForTasks } from "./wait-many.ts";

interface WaitFlags {
  timeout?: number;
  json?: boolean;
  server?: string;
  token?: string;
}

const HELP_AFTER = `
With several ids (or - and the ids on stdin, one per line) it waits for each in order and prints
a line per task as it ends: \`ID STATE JSON\` (the result, or the error of a task that did not
complete; --json: the task). Exit 0 when all completed, 1 when one did not, 4 on --timeout.

examples:
  tqd wait 01J9ZK3M --timeout 5m | jq .
  tqd enqueue files process --lines < inputs.jsonl > ids.txt && tqd wait - < ids.txt --timeout 1h
`;

/** Each ID argument: a task id, or `-` (alone) for ids on stdin. */
function idArgument(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value === "-" ? value : parseTaskId(value)];
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let given: string[] = [];
  const program = addClientOptions(
    newCommand("wait", io)
      .description("wait for a task to finish; print its result (exit 0) or its error (exit 1)")
      .addArgument(new Argument("<ID...>", "task id; several, or - to read ids from stdin one per line").argParser(idArgument))
      .option("--timeout <duration>", "give up after this long with exit 4 (e.g. 30s, 5m; default: no limit)", parseDurationMs)
      .option("--json", "print the final task as one JSON line (the protocol's TaskView)")
      .action((ids: string[]) => void (given = ids)),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<WaitFlags>();
  let ids = given;
  if (given.includes("-")) {
    if (given.length > 1) return usageError(io, "- reads the ids from stdin: give it alone, without other ids");
    const read = parseIdLines(await io.readStdin());
    if (!read.ok) return usageError(io, read.message);
    ids = read.ids;
  }
  const options = { timeoutMs: flags.timeout, json: flags.json === true };
  if (given.length === 1 && given[0] !== "-") {
    const client = clientFromFlags(flags, io);
    if (typeof client === "number") return client;
    return waitAndReport(client, given[0]!, io, options);
  }
  // Many reads: as frames on the stream (20,000 in 1.5-1.7 s against 2.4 s as requests, see
  // bench/NOTES.md), over HTTP where a server or proxy refuses it.
  const client = clientFromFlags(flags, io, { transport: "stream" });
  if (typeof client === "number") return client;
  try {
    return await waitForTasks(client, ids, io, options);
  } finally {
    client.close();
  }
}
