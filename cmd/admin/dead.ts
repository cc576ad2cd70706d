/**
 * `tqd dead ls|requeue|purge QUEUE ...`: the dead-letter list of a queue, that is its tasks that
 * ended `failed` or `timed_out`. The first argument picks the subcommand; each subcommand is its
 * own commander program, so its usage errors and --help name its own flags.
 *
 * - `ls QUEUE [--limit N] [--json]`: see render-dead.ts for the layouts.
 * - `requeue QUEUE (ID... | --all) [--json]`: each task gets a fresh attempt budget and is
 *   pending again. Prints the requeued ids, one per line. Exit 1 when a named id was not requeued
 *   (not dead in that queue): the ones that were are still printed, the others named on stderr.
 * - `purge QUEUE [--older DUR] [--json]`: deletes dead tasks (those that ended more than DUR
 *   ago). Prints the number deleted.
 */
import { Argument } from "commander";
import { LIMITS, type DeadRequeueRequest } from "../../lib/protocol/index.ts";
import { addClientOptions, reportClientError } from "../client-command.ts";
import { integerOption, newCommand, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parsePositiveDuration, parseTaskId, queueArgument } from "./argument-parsers.ts";
import { renderDeadHuman, renderDeadPlain } from "./render-dead.ts";
import { prepareClientCommand, runGroup, type SubcommandGroup } from "./subcommand-group.ts";

interface CommonFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

const GROUP: SubcommandGroup = {
  name: "dead",
  subcommands: {
    ls: { summary: "list the dead tasks of QUEUE, oldest first", run: runList },
    requeue: { summary: "give dead tasks a fresh attempt budget and make them pending again", run: runRequeue },
    purge: { summary: "delete dead tasks (optionally only those that ended before --older DUR)", run: runPurge },
  },
  about: "Dead tasks are tasks that ended failed or timed_out; they stay listed until requeued or purged.",
  examples: ["tqd dead ls emails", "tqd dead requeue emails 01J9ZK3M 01J9ZK4N", "tqd dead requeue emails --all", "tqd dead purge emails --older 7d"],
};

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runGroup(GROUP, args, io);
}

const prepare = prepareClientCommand;

async function runList(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("dead ls", io)
      .description("list the dead tasks (failed or timed_out) of a queue, oldest first")
      .addArgument(queueArgument())
      .option("--limit <n>", `list at most this many (1-${LIMITS.listLimit})`, integerOption(1, LIMITS.listLimit))
      .option("--json", 'print {"tasks":[...]} as one JSON line')
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", "\nplain columns: id type state attempt finishedAt ERROR (ERROR is 'type: message' or -, the rest of the line)\n");
  const prepared = prepare<CommonFlags & { limit?: number }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const answer = await client.deadList(queue, flags.limit === undefined ? {} : { limit: flags.limit });
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(io.stdout.isTTY ? renderDeadHuman(queue, answer.tasks) : renderDeadPlain(answer.tasks));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runRequeue(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  let ids: string[] = [];
  const program = addClientOptions(
    newCommand("dead requeue", io)
      .description("give dead tasks a fresh attempt budget and make them pending again; prints the requeued ids")
      .addArgument(queueArgument())
      .addArgument(new Argument("[ID...]", "ids of dead tasks to requeue (or --all)").argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), parseTaskId(value)]))
      .option("--all", "requeue every dead task of the queue")
      .option("--json", 'print {"requeued":[...]} as one JSON line')
      .action((name: string, taskIds: string[] | undefined) => {
        queue = name;
        ids = taskIds ?? [];
      }),
  ).addHelpText("after", "\nexamples:\n  tqd dead requeue emails 01J9ZK3M 01J9ZK4N\n  tqd dead ls emails | awk '$3 == \"timed_out\" {print $1}' | xargs -r tqd dead requeue emails\n");
  const prepared = prepare<CommonFlags & { all?: boolean }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  if (flags.all && ids.length > 0) return usageError(io, "give task ids or --all, not both");
  if (!flags.all && ids.length === 0) return usageError(io, "name the task ids to requeue, or give --all");
  if (ids.length > LIMITS.batchTasks) return usageError(io, `at most ${LIMITS.batchTasks} ids at once`);
  const request: DeadRequeueRequest = flags.all ? { all: true } : { ids: [...new Set(ids)] };
  try {
    const answer = await client.deadRequeue(queue, request);
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(answer.requeued.map((id) => id + "\n").join(""));
    const requeued = new Set(answer.requeued);
    const missed = ids.filter((id) => !requeued.has(id));
    if (missed.length > 0) {
      io.stderr.write(`error: not requeued (no such dead task in ${queue}): ${missed.join(" ")}\n`);
      return EXIT.failure;
    }
    if (answer.requeued.length === 0 && io.stderr.isTTY) io.stderr.write(`note: no dead tasks in ${queue}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runPurge(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("dead purge", io)
      .description("delete dead tasks of a queue; prints how many were deleted")
      .addArgument(queueArgument())
      .option("--older <duration>", "only tasks that ended more than this long ago (e.g. 7d)", parsePositiveDuration)
      .option("--json", 'print {"purged":N} as one JSON line')
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", "\nexamples:\n  tqd dead purge emails --older 7d\n");
  const prepared = prepare<CommonFlags & { older?: string }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const answer = await client.deadPurge(queue, flags.older === undefined ? {} : { olderThan: flags.older });
    if (flags.json) io.stdout.write(JSON.stringify(answer) + "\n");
    else io.stdout.write(io.stdout.isTTY ? `purged ${answer.purged} dead task${answer.purged === 1 ? "" : "s"} from ${queue}\n` : `${answer.purged}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
