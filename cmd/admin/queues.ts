/**
 * `tqd queues [--json]`: lists queues with their task counts by state. See render-queues.ts
 * for the plain and table layouts.
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { renderQueuesHuman, renderQueuesPlain } from "./render-queues.ts";

interface QueuesFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const program = addClientOptions(
    newCommand("queues", io)
      .description("list queues with counts by state (plain lines in pipes, a table on a terminal)")
      .option("--json", 'print {"queues":[...]} as one JSON line'),
  ).addHelpText("after", "\nplain columns: name pending running completed failed pollersWaiting scheduled canceled timedOut\n(new counts are appended at the end, so column positions never change)\n");
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<QueuesFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const list = await client.listQueues();
    if (flags.json) io.stdout.write(JSON.stringify(list) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderQueuesHuman(list.queues) : renderQueuesPlain(list.queues));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
