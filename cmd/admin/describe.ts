/**
 * `tqd describe QUEUE [--json]`: everything about one queue: counts by state, backlog and the
 * age of its oldest pending task, adds and dispatches over the last minute, the rate limit in
 * force and where it comes from, the paused flag, live pollers (identity, host, task types, free
 * slots, last seen, declared rate), task types no live poller handles, and fairness keys with
 * their backlog. See render-describe.ts for the plain and TTY layouts. Describing a queue that
 * was never used shows it empty (queues exist by being named).
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { queueArgument } from "./argument-parsers.ts";
import { renderDescribeHuman, renderDescribePlain } from "./render-describe.ts";

interface DescribeFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

const HELP_AFTER = `
plain lines (the first word names the line; - means none):
  queue NAME, paused true|false, scheduled|pending|running|completed|failed|canceled|timedOut N,
  backlog N, oldestPendingAgeMs MS, addedLastMinute N, dispatchedLastMinute N,
  rateLimit RATE BURST SOURCE [DECLARED_BY], adminLimit RATE BURST, pollerTypesDiffer true|false,
  then per live poller:    poller IDENTITY HOST FREE_SLOTS WAITING LAST_SEEN RATE TYPES,
  per unhandled task type: typeWithoutPoller TYPE,
  per fairness key:        fairnessKey KEY WEIGHT RATE PENDING

examples:
  tqd describe emails
  tqd describe emails | awk '$1 == "backlog" {print $2}'
  tqd describe emails --json | jq '.pollers[].identity'
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("describe", io)
      .description("show a queue: counts, backlog, rates, limit, pause, pollers and fairness keys")
      .addArgument(queueArgument())
      .option("--json", "print the server's answer as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<DescribeFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.describe(queue);
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderDescribeHuman(answer, Date.now()) : renderDescribePlain(answer));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
