/**
 * `tqd enqueue QUEUE TYPE [INPUT_JSON | -]`: adds a task and prints its id, or with --wait
 * waits for it and prints the result like `tqd wait`. Everything is validated locally first
 * (names, JSON, durations, ranges) so a typo exits 2 naming the flag before any request is sent;
 * combinations only the server can judge come back as a 400 naming the field (exit 1).
 *
 * When the server warns (no worker has polled the queue in the last hour: a typo in the queue
 * name?), the warning goes to stderr as `warning: ...`; stdout and the exit code are unchanged.
 * When a traffic rule sent the task to another queue, a terminal gets `note: routed to Q` on
 * stderr (pipes do not: the id on stdout is all a script needs).
 *
 * Without --id the CLI mints a time-sortable id itself (task-id.ts): the request is then
 * idempotent, so the client retries it after a transport failure without risking a second task.
 */
import { Argument, Option } from "commander";
import { IF_EXISTS, PRIORITY_MAX, PRIORITY_MIN } from "../../lib/protocol/index.ts";
import { addClientOptions, clientFromFlags, reportClientError } from "../client-command.ts";
import { collect, integerOption, newCommand, parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import {
  parseBackoff,
  parseDurationMs,
  parseErrorType,
  parseFairnessKey,
  parsePositiveDuration,
  parseQueueName,
  parseRunAt,
  parseTaskId,
  parseTaskType,
  queueArgument,
  readJsonInput,
} from "./argument-parsers.ts";
import { enqueueLines, parseInputLines } from "./enqueue-lines.ts";
import { buildEnqueueRequest, checkEnqueueFlagCombinations, type EnqueueTaskFlags } from "./enqueue-request.ts";
import { collectHeader } from "./routing-arguments.ts";
import { newTaskId } from "./task-id.ts";
import { escapeControlCharacters } from "./text-layout.ts";
import { waitAndReport } from "./task-wait.ts";

interface EnqueueFlags extends EnqueueTaskFlags {
  lines?: boolean;
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

/** `--retries` counts retries, not attempts; the protocol's maxAttempts is at most 10,000. */
const MAX_RETRIES = 9_999;

const HELP_AFTER = `
--retries N allows N more attempts after the first: --retries 0 runs the task once.
--backoff INITIAL[,COEFFICIENT[,MAX]] waits INITIAL before the first retry, multiplies the wait
  by COEFFICIENT (>= 1) after each further failure, and never waits longer than MAX.
Flags left out take the server's defaults, which 'tqd get ID' shows.

examples:
  tqd enqueue hello greet '{"name":"Ada"}'
  echo '{"name":"Ada"}' | tqd enqueue hello greet - --wait --timeout 1m
  tqd enqueue reports build --id report-2024-06 --timeout-run 10m --heartbeat 30s
  tqd enqueue emails send '{"to":"ada@example.com"}' --delay 10m --priority 1
  tqd enqueue billing charge --at 2026-10-01T09:00:00+02:00 --retries 5 --backoff 1s,2,1m --non-retryable CardDeclined
  tqd enqueue exports build '{"tenant":"acme"}' --fairness-key acme
  tqd enqueue images resize --header tenant=acme --header tier=gold
  tqd enqueue files@host:web-1 process '{"path":"/tmp/a"}' --fallback-after 30s --wait
  find /data -name '*.csv' | jq -Rc '{path: .}' | tqd enqueue files process --lines > ids.txt

--lines reads every line of stdin first (a line that is not JSON exits 2 and sends nothing),
  then enqueues in batches of up to 1,000, printing each batch's ids as it is committed. If a
  batch fails, the ids printed are exactly the tasks enqueued: the first N inputs. Ctrl-C stops
  after the batch in flight (exit 130).

--header NAME=VALUE (repeatable) sets the task's headers, which traffic rules (tqd route) match on.
--fallback-after DUR: a task not started within DUR moves to --fallback-queue, by default to the
  base queue Q of a host or worker queue (Q@host:H, Q@worker:ID), so it does not wait for a
  host that is gone. Without it, only --timeout-start ends such a wait.

A queue no worker has polled in the last hour still takes the task, but the server's warning
(a typo in the queue name?) is printed on stderr as 'warning: ...'.
`;

function enqueueCommand(io: CliIo, parsed: EnqueueArgs) {
  return addClientOptions(
    newCommand("enqueue", io)
      .description("add a task to a queue; print its id, or with --wait its result JSON")
      .addArgument(queueArgument())
      .addArgument(new Argument("<TYPE>", "task type").argParser(parseTaskType))
      .addArgument(new Argument("[INPUT_JSON]", "task input as JSON, or - to read it from stdin"))
      .option("--id <id>", "task id (default: a new time-sortable id); enqueuing a live task's id again returns it", parseTaskId)
      .addOption(
        new Option("--if-exists <mode>", "when --id names a task that already ended: reject (409), return it, or new (run it again)").choices(
          IF_EXISTS,
        ),
      )
      .option("--priority <n>", `${PRIORITY_MIN} (first) to ${PRIORITY_MAX} (last); default 3`, integerOption(PRIORITY_MIN, PRIORITY_MAX))
      .option("--fairness-key <key>", "share dispatches fairly with tasks of other keys (a tenant, say); see tqd fairness", parseFairnessKey)
      .option("--delay <duration>", "do not start before this long from now (e.g. 30s, 10m)", parsePositiveDuration)
      .option("--at <time>", "do not start before this ISO 8601 time (e.g. 2026-10-01T12:00:00Z)", parseRunAt)
      .option("--timeout-start <duration>", "schedule-to-start: give up (timed_out) if no worker starts it within this", parsePositiveDuration)
      .option("--timeout-run <duration>", "start-to-close timeout of each attempt (e.g. 30s, 5m)", parsePositiveDuration)
      .option("--timeout-total <duration>", "schedule-to-close: the whole task, retries included", parsePositiveDuration)
      .option("--heartbeat <duration>", "heartbeat timeout: an attempt that stays silent this long times out", parsePositiveDuration)
      .option("--retries <n>", "retries after the first attempt (0 = run once)", integerOption(0, MAX_RETRIES))
      .option("--backoff <spec>", "retry backoff INITIAL[,COEFFICIENT[,MAX]], e.g. 1s,2,1m", parseBackoff)
      .option("--non-retryable <type>", "an error type that is never retried; repeat for more", (value: string, previous: string[] | undefined) =>
        collect(parseErrorType(value), previous),
      )
      .option("--header <name=value>", "a header traffic rules match on (e.g. tenant=acme); repeat for more", collectHeader)
      .option("--fallback-after <duration>", "not started within this, the task moves to --fallback-queue (default: the base queue of a host or worker queue)", parsePositiveDuration)
      .option("--fallback-queue <queue>", "with --fallback-after: where the task moves", parseQueueName)
      .option("--lines", "a task for each line of stdin, each line its input JSON (JSON Lines); prints one id per line")
      .option("--wait", "wait for the task to finish and print its result (exit 1 if it does not complete)")
      .option("--timeout <duration>", "with --wait: give up after this long with exit 4 (default: no limit)", parseDurationMs)
      .option("--json", "print the protocol object as one JSON line (the enqueue answer, one a task with --lines, or the final task with --wait)")
      .action((queue: string, type: string, input: string | undefined) => {
        Object.assign(parsed, { queue, type, input });
      }),
  ).addHelpText("after", HELP_AFTER);
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed: EnqueueArgs = { queue: "", type: "", input: undefined };
  const program = enqueueCommand(io, parsed);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<EnqueueFlags>();
  if (flags.timeout !== undefined && !flags.wait) return usageError(io, "--timeout needs --wait (it limits the wait)");
  const combinationError = checkEnqueueFlagCombinations(flags, parsed.queue);
  if (combinationError) return usageError(io, combinationError);
  if (flags.lines) return runLines(parsed, flags, io);
  const input = await readJsonInput(parsed.input, () => io.readStdin());
  if (input && !input.ok) return usageError(io, input.message);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;

  // A minted id names no other task, so the only way it can already exist is that an earlier
  // try of this very request got through; `return` then answers with that task even if a worker
  // finished it in between (the default, reject, would answer 409).
  const request =
    flags.id === undefined
      ? buildEnqueueRequest(parsed.type, input, newTaskId(Date.now()), { ...flags, ifExists: "return" })
      : buildEnqueueRequest(parsed.type, input, flags.id, flags);
  let id: string;
  try {
    const answer = await client.enqueue(parsed.queue, request);
    id = answer.id;
    if (answer.warning !== undefined) io.stderr.write(`warning: ${escapeControlCharacters(answer.warning)}\n`);
    if (answer.routedTo !== undefined && answer.routedTo !== parsed.queue && io.stderr.isTTY) {
      io.stderr.write(`note: a routing rule of ${parsed.queue} sent task ${answer.id} to ${answer.routedTo} (tqd route ls ${parsed.queue})\n`);
    }
    if (!flags.wait) {
      io.stdout.write((flags.json ? JSON.stringify(answer) : answer.id) + "\n");
      // A minted id answered created:false only means our own retried request got through.
      if (!answer.created && flags.id !== undefined && io.stderr.isTTY) {
        io.stderr.write(`note: task ${answer.id} already existed (${answer.state}); not enqueued again\n`);
      }
      return EXIT.ok;
    }
  } catch (error) {
    return reportClientError(io, error);
  }
  return waitAndReport(client, id, io, { timeoutMs: flags.timeout, json: flags.json === true });
}

/** `--lines`: every line of stdin is a task's input; the rest as for one task. */
async function runLines(parsed: EnqueueArgs, flags: EnqueueFlags, io: CliIo): Promise<number> {
  if (parsed.input !== undefined && parsed.input !== "-") return usageError(io, "--lines reads the inputs from stdin, one per line: give no INPUT_JSON (or -)");
  if (flags.id !== undefined) return usageError(io, "--id names one task: with --lines each task gets an id of its own");
  if (flags.wait) return usageError(io, "--wait waits for one task: with --lines, pipe the ids it prints to tqd wait -");
  const parsedLines = parseInputLines(await io.readStdin());
  if (!parsedLines.ok) return usageError(io, parsedLines.message);
  const client = clientFromFlags(flags, io);
  if (typeof client === "number") return client;
  // Ids minted by the CLI make a retried batch idempotent, as for one task (see run above).
  const taskFlags = { ...flags, ifExists: "return" as const };
  const requestOf = (value: unknown, id: string) => buildEnqueueRequest(parsed.type, { value }, id, taskFlags);
  return enqueueLines(client, parsed.queue, parsedLines.lines, requestOf, io, flags.json === true);
}
