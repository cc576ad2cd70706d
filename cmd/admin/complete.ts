/**
 * `tqd complete TOKEN [RESULT_JSON | -] [--json]`: finishes a task whose handler handed its
 * lease back with `ctx.completeLater()`. TOKEN carries the task id and the lease token; it is
 * checked locally (exit 2 naming TOKEN when it is not one). A stale or already used token is the
 * server's 404/409: exit 1 with its error line. Repeating a successful completion with the same
 * token is harmless, so the call is retried after transport failures.
 *
 * Output: the task's new state (`completed`) on one line; `--json`: the answer `{id, state}`.
 */
import { Argument } from "commander";
import type { CompletionToken, SettleResponse } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { completionTokenArgument, readJsonInput } from "./argument-parsers.ts";

interface CompleteFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

/** The state line for scripts, or a sentence for a person (shared with `tqd fail`). */
export function renderSettle(answer: SettleResponse, human: boolean): string {
  if (!human) return `${answer.state}\n`;
  if (answer.state === "scheduled") return `task ${answer.id}: this attempt failed; the task will be retried (scheduled)\n`;
  if (answer.state === "completed" || answer.state === "failed") return `task ${answer.id} ${answer.state}\n`;
  return `task ${answer.id} is ${answer.state}\n`;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed: { token?: CompletionToken; result?: string } = {};
  const program = addClientOptions(
    newCommand("complete", io)
      .description("complete a task handed back by ctx.completeLater(), with an optional result")
      .addArgument(completionTokenArgument())
      .addArgument(new Argument("[RESULT_JSON]", "the task's result as JSON, or - to read it from stdin"))
      .option("--json", "print the answer {id, state} as one JSON line")
      .action((token: CompletionToken, result: string | undefined) => void Object.assign(parsed, { token, result })),
  ).addHelpText("after", "\nexamples:\n  tqd complete \"$TOKEN\" '{\"approved\":true}'\n  ./render.sh | tqd complete \"$TOKEN\" -\n");
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const { token } = parsed;
  if (!token) return usageError(io, "missing required argument 'TOKEN'");
  const flags = program.opts<CompleteFlags>();
  const result = await readJsonInput(parsed.result, () => io.readStdin(), "RESULT_JSON");
  if (result && !result.ok) return usageError(io, result.message);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  try {
    const answer = await client.complete(token.taskId, token.leaseToken, result?.value);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderSettle(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
