/**
 * `tqd queues [--prefix P] [--json]`: lists queues with their task counts by state, optionally
 * only those whose name starts with P. See render-queues.ts for the plain and table layouts.
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseQueuePrefix } from "./argument-parsers.ts";
import { renderQueuesHuman, renderQueuesPlain } from "./render-queues.ts";

interface QueuesFlags {
  prefix?: string;
  json?: boolean;
  server?: string;
  token?: string;
}

const HELP_AFTER = `
plain columns: name pending running completed failed pollersWaiting scheduled canceled timedOut
(new counts are appended at the end, so column positions never change)

examples:
  tqd queues --prefix billing.
  tqd queues | awk '$2 > 1000 {print $1}'     # queues with a backlog over 1000
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const program = addClientOptions(
    newCommand("queues", io)
      .description("list queues with counts by state (plain lines in pipes, a table on a terminal)")
      .option("--prefix <prefix>", "only queues whose name starts with this", parseQueuePrefix)
      .option("--json", 'print {"queues":[...]} as one JSON line'),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<QueuesFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const list = await client.listQueues(flags.prefix);
    if (flags.json) io.stdout.write(JSON.stringify(list) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderQueuesHuman(list.queues, flags.prefix) : renderQueuesPlain(list.queues));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
