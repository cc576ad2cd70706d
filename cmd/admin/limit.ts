/**
 * `tqd limit QUEUE --rate R [--burst N] | --clear [--json]`: sets or removes the queue's dispatch
 * rate limit. It applies to every worker of the queue together and overrides the rates workers
 * declare with `tqd work --queue-rate`. The burst (tasks that may go out at once after a quiet
 * spell) defaults to one second of the rate, at least 1.
 *
 * Output: the limit now in force, `50/s burst 50`, or `no limit` (a sentence on a TTY);
 * `--json` prints the server's answer `{queue, limit: {ratePerSecond, burst} | null}`.
 */
import type { LimitRequest } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { integerOption, newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseRateText, queueArgument } from "./argument-parsers.ts";
import { renderLimit } from "./render-queue-controls.ts";

interface LimitFlags {
  rate?: string;
  burst?: number;
  clear?: boolean;
  json?: boolean;
  server?: string;
  token?: string;
}

/** Largest burst the protocol accepts. */
const MAX_BURST = 1_000_000;

const HELP_AFTER = `
Rates are N/s, N/m or N/h (e.g. 50/s, 3000/m, 10/h). Tasks beyond the limit stay pending.
output: '50/s burst 50' or 'no limit'

examples:
  tqd limit emails --rate 50/s
  tqd limit reports --rate 10/m --burst 1
  tqd limit emails --clear
`;

/** The request the flags ask for, or the usage message. */
export function limitRequestFrom(flags: LimitFlags): LimitRequest | string {
  if (flags.clear && (flags.rate !== undefined || flags.burst !== undefined)) return "--clear removes the limit: give it alone, without --rate or --burst";
  if (flags.clear) return { clear: true };
  if (flags.rate === undefined) return "missing --rate: give --rate RATE (e.g. 50/s) or --clear";
  return flags.burst === undefined ? { rate: flags.rate } : { rate: flags.rate, burst: flags.burst };
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("limit", io)
      .description("set (or --clear) the dispatch rate limit of a queue, across all its workers")
      .addArgument(queueArgument())
      .option("--rate <rate>", "most tasks dispatched per second, minute or hour: 50/s, 3000/m, 10/h", parseRateText)
      .option("--burst <n>", `most tasks dispatched at once after a quiet spell (default: one second of the rate, at least 1)`, integerOption(1, MAX_BURST))
      .option("--clear", "remove the limit")
      .option("--json", "print the server's answer {queue, limit} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<LimitFlags>();
  const request = limitRequestFrom(flags);
  if (typeof request === "string") return usageError(io, request);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.limit(queue, request);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderLimit(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
