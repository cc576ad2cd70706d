/**
 * `tqd fail TOKEN --type T --message M [--non-retryable] [--json]`: fails the current attempt of
 * a task handed back by `ctx.completeLater()`. The task's retry policy decides what follows: the
 * answer's state is `scheduled` when it will be retried, `failed` when this was final (no
 * attempts left, a non-retryable type, or `--non-retryable`). A stale or used token is the
 * server's 404/409: exit 1 with its error line.
 *
 * Output: that state on one line; `--json`: the answer `{id, state}`.
 */
import { LIMITS, type CompletionToken, type TaskError } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { completionTokenArgument, parseErrorType } from "./argument-parsers.ts";
import { renderSettle } from "./complete.ts";

interface FailFlags {
  type: string;
  message: string;
  nonRetryable?: boolean;
  json?: boolean;
  server?: string;
  token?: string;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let token: CompletionToken | undefined;
  const program = addClientOptions(
    newCommand("fail", io)
      .description("fail the attempt of a task handed back by ctx.completeLater(); prints failed, or scheduled if it will be retried")
      .addArgument(completionTokenArgument())
      .requiredOption("--type <type>", "error type (retry policies match it against their non-retryable types)", parseErrorType)
      .requiredOption("--message <text>", "what went wrong")
      .option("--non-retryable", "do not retry, whatever the retry policy says")
      .option("--json", "print the answer {id, state} as one JSON line")
      .action((value: CompletionToken) => void (token = value)),
  ).addHelpText("after", "\nexamples:\n  tqd fail \"$TOKEN\" --type Rejected --message 'reviewer said no' --non-retryable\n");
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  if (!token) return usageError(io, "missing required argument 'TOKEN'");
  const flags = program.opts<FailFlags>();
  if (flags.message.length > LIMITS.errorMessageChars) return usageError(io, `--message is longer than ${LIMITS.errorMessageChars} characters`);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  const error: TaskError = { type: flags.type, message: flags.message };
  if (flags.nonRetryable) error.nonRetryable = true;
  try {
    const answer = await client.fail(token.taskId, token.leaseToken, error);
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : renderSettle(answer, io.stdout.isTTY));
    return EXIT.ok;
  } catch (caught) {
    return reportClientError(io, caught);
  }
}
