/**
 * `tqd fairness QUEUE --key K [--weight W] [--key-rate R | --clear-rate] [--json]`: tunes how a
 * fairness key (the `--fairness-key` of `tqd enqueue`, a tenant say) shares the queue's
 * dispatches. Among keys with pending tasks each gets dispatches in proportion to its weight
 * (default 1); `--key-rate` caps the key on its own, `--clear-rate` removes that cap. Flags left
 * out keep the key's current setting.
 *
 * Output: `KEY WEIGHT RATE PENDING` (RATE is `-` without a per-key limit; a sentence on a TTY);
 * `--json` prints the server's answer `{queue, key: {key, weight, ratePerSecond?, pending}}`.
 */
import type { FairnessRequest } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { integerOption, newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseFairnessKey, parseRateText, queueArgument } from "./argument-parsers.ts";
import { renderFairness } from "./render-queue-controls.ts";

interface FairnessFlags {
  key?: string;
  weight?: number;
  keyRate?: string;
  clearRate?: boolean;
  json?: boolean;
  server?: string;
  token?: string;
}

/** Largest weight the protocol accepts. */
const MAX_WEIGHT = 1_000;

const HELP_AFTER = `
output: KEY WEIGHT RATE PENDING (RATE is - without a per-key limit)

examples:
  tqd enqueue exports build '{"tenant":"acme"}' --fairness-key acme
  tqd fairness exports --key acme --weight 3           # acme gets 3 dispatches to 1 of each other key
  tqd fairness exports --key free-tier --key-rate 5/s  # and never more than 5 a second
  tqd fairness exports --key free-tier --clear-rate
`;

/** The request the flags ask for, or the usage message. */
export function fairnessRequestFrom(flags: FairnessFlags): FairnessRequest | string {
  if (flags.key === undefined) return "missing --key: name the fairness key to tune";
  if (flags.keyRate !== undefined && flags.clearRate) return "give --key-rate or --clear-rate, not both";
  if (flags.weight === undefined && flags.keyRate === undefined && !flags.clearRate) return "nothing to change: give --weight, --key-rate or --clear-rate";
  const request: FairnessRequest = { key: flags.key };
  if (flags.weight !== undefined) request.weight = flags.weight;
  if (flags.keyRate !== undefined) request.rate = flags.keyRate;
  if (flags.clearRate) request.rate = null;
  return request;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("fairness", io)
      .description("set a fairness key's share of a queue's dispatches (weight) and its own rate limit")
      .addArgument(queueArgument())
      .option("--key <key>", "the fairness key (as given to tqd enqueue --fairness-key)", parseFairnessKey)
      .option("--weight <n>", `its share among keys with pending tasks, 1-${MAX_WEIGHT} (default 1)`, integerOption(1, MAX_WEIGHT))
      .option("--key-rate <rate>", "most dispatches of this key per second, minute or hour: 5/s, 300/m", parseRateText)
      .option("--clear-rate", "remove the key's own rate limit")
      .option("--json", "print the server's answer {queue, key} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<FairnessFlags>();
  const request = fairnessRequestFrom(flags);
  if (typeof request === "string") return usageError(io, request);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.fairness(queue, request);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderFairness(answer.queue, answer.key, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
