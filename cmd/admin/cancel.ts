/**
 * `tqd cancel ID [--reason TEXT] [--json]`: cancels a task. A task that is not running
 * (scheduled or pending) becomes `canceled` at once and is never dispatched; a running task gets
 * `cancelRequested`, its worker is told on its next heartbeat, and it ends `canceled` once the
 * handler stops.
 *
 * Output (stable, for scripts): `canceled` or `cancel_requested` on one line in pipes; a sentence
 * on a TTY; `--json` prints the server's answer `{id, state, cancelRequested}`. Exit 0 for both;
 * exit 1 with the server's error line when the task is unknown (not_found) or already final
 * (conflict).
 */
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import type { CancelResponse } from "../../lib/protocol/index.ts";
import { taskIdArgument } from "./argument-parsers.ts";

interface CancelFlags {
  reason?: string;
  json?: boolean;
  server?: string;
  token?: string;
}

/** Longest reason the protocol accepts. */
const MAX_REASON_CHARS = 1_000;

const HELP_AFTER = `
output: 'canceled' (the task will never run) or 'cancel_requested' (it is running; it ends
canceled once its worker stops the handler). Exit 1 if the task is unknown or already final.

examples:
  tqd cancel report-2026-10 --reason "superseded by report-2026-10b"
  [ "$(tqd cancel "$id")" = canceled ] && echo "never ran"
`;

/** The one-line answer for scripts, or a sentence for a person. */
export function renderCancel(answer: CancelResponse, human: boolean): string {
  if (answer.state === "canceled") return human ? `task ${answer.id} canceled: it will not run\n` : "canceled\n";
  if (answer.cancelRequested) {
    return human ? `task ${answer.id} is ${answer.state}: cancel requested; it ends canceled when its worker stops it\n` : "cancel_requested\n";
  }
  return human ? `task ${answer.id} is ${answer.state}\n` : `${answer.state}\n`;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let id = "";
  const program = addClientOptions(
    newCommand("cancel", io)
      .description("cancel a task: at once if it is not running, else ask its worker to stop")
      .addArgument(taskIdArgument())
      .option("--reason <text>", `why (recorded with the cancel; at most ${MAX_REASON_CHARS} characters)`)
      .option("--json", "print the server's answer {id, state, cancelRequested} as one JSON line")
      .action((taskId: string) => void (id = taskId)),
  ).addHelpText("after", HELP_AFTER);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<CancelFlags>();
  if (flags.reason !== undefined && flags.reason.length > MAX_REASON_CHARS) {
    return usageError(io, `--reason is longer than ${MAX_REASON_CHARS} characters`);
  }
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.cancel(id, flags.reason);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderCancel(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
