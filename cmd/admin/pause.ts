/**
 * `tqd pause QUEUE [--json]` and `tqd resume QUEUE [--json]` (resume.ts): a paused queue still
 * accepts tasks but dispatches none; running tasks go on. Both are idempotent.
 *
 * Output: the queue's new state, `paused` or `resumed` (a sentence on a TTY); `--json` prints the
 * server's answer `{queue, paused}`.
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { queueArgument } from "./argument-parsers.ts";
import { renderPause } from "./render-queue-controls.ts";

interface PauseFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

const DESCRIPTIONS = {
  pause: "stop dispatching a queue's tasks (it still accepts new ones; running tasks go on)",
  resume: "dispatch a paused queue's tasks again",
} as const;

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runPauseCommand("pause", args, io);
}

/** The body of `tqd pause` and `tqd resume`. */
export async function runPauseCommand(verb: "pause" | "resume", args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand(verb, io)
      .description(DESCRIPTIONS[verb])
      .addArgument(queueArgument())
      .option("--json", "print the server's answer {queue, paused} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", `\noutput: the queue's new state, 'paused' or 'resumed'\n\nexamples:\n  tqd ${verb} emails\n`);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<PauseFlags>();
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = verb === "pause" ? await client.pause(queue) : await client.resume(queue);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderPause(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
