/**
 * `tqd enqueue QUEUE TYPE [INPUT_JSON | -]`: adds a task and prints its id, or with --wait
 * waits for it and prints the result like `tqd wait`. Everything is validated locally first
 * (names, JSON, durations) so a typo exits 2 naming the argument before any request is sent.
 */
import { Argument } from "commander";
import type { EnqueueRequest } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { parseDurationMs, parsePositiveDuration, parseTaskId, parseTaskType, queueArgument, readJsonInput } from "./argument-parsers.ts";
import { waitAndReport } from "./task-wait.ts";

interface EnqueueFlags {
  id?: string;
  timeoutRun?: string;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
  server?: string;
  token?: string;
}

interface EnqueueArgs {
  queue: string;
  type: string;
  input: string | undefined;
}

const EXAMPLES = `
examples:
  tqd enqueue hello greet '{"name":"Ada"}'
  echo '{"name":"Ada"}' | tqd enqueue hello greet - --wait --timeout 1m
  tqd enqueue reports build --id report-2024-06 --timeout-run 10m
`;

function enqueueCommand(io: CliIo, parsed: EnqueueArgs) {
  return addClientOptions(
    newCommand("enqueue", io)
      .description("add a task to a queue; print its id, or with --wait its result JSON")
      .addArgument(queueArgument())
      .addArgument(new Argument("<TYPE>", "task type").argParser(parseTaskType))
      .addArgument(new Argument("[INPUT_JSON]", "task input as JSON, or - to read it from stdin"))
      .option("--id <id>", "task id; enqueuing the same id again returns the existing task", parseTaskId)
      .option("--timeout-run <duration>", "start-to-close timeout of each attempt (e.g. 30s, 5m)", parsePositiveDuration)
      .option("--wait", "wait for the task to finish and print its result (exit 1 if it fails)")
      .option("--timeout <duration>", "with --wait: give up after this long with exit 4 (default: no limit)", parseDurationMs)
      .option("--json", "print the protocol object as one JSON line (the enqueue answer, or the final task with --wait)")
      .action((queue: string, type: string, input: string | undefined) => {
        Object.assign(parsed, { queue, type, input });
      }),
  ).addHelpText("after", EXAMPLES);
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed: EnqueueArgs = { queue: "", type: "", input: undefined };
  const program = enqueueCommand(io, parsed);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<EnqueueFlags>();
  if (flags.timeout !== undefined && !flags.wait) return usageError(io, "--timeout needs --wait (it limits the wait)");
  const input = await readJsonInput(parsed.input, () => io.readStdin());
  if (input && !input.ok) return usageError(io, input.message);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;

  const request: EnqueueRequest = { type: parsed.type };
  if (input) request.input = input.value;
  if (flags.id !== undefined) request.id = flags.id;
  if (flags.timeoutRun !== undefined) request.startToCloseTimeout = flags.timeoutRun;
  let id: string;
  try {
    const answer = await client.enqueue(parsed.queue, request);
    id = answer.id;
    if (!flags.wait) {
      io.stdout.write((flags.json ? JSON.stringify(answer) : answer.id) + "\n");
      if (!answer.created && io.stderr.isTTY) io.stderr.write(`note: task ${answer.id} already existed; not enqueued again\n`);
      return EXIT.ok;
    }
  } catch (error) {
    return reportClientError(io, error);
  }
  return waitAndReport(client, id, io, { timeoutMs: flags.timeout, json: flags.json === true });
}
