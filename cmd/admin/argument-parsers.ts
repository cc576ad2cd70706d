/**
 * Local validation of admin-command arguments, so a typo fails with exit 2 and the argument's
 * name before any request is sent. The grammars come from lib/protocol, so the CLI can never
 * accept a name the server would refuse (or refuse one it would accept).
 */
import { Argument, InvalidArgumentError } from "commander";
import { MAX_DURATION_MS, parseDuration, queueNameSchema, taskIdSchema, taskTypeSchema } from "../../lib/protocol/index.ts";

/** Turns a protocol name schema into a commander parser whose error text is the schema's rule. */
function nameParser(schema: typeof queueNameSchema) {
  return (text: string): string => {
    const parsed = schema.safeParse(text);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? "invalid value");
    return parsed.data;
  };
}

export const parseQueueName = nameParser(queueNameSchema);
export const parseTaskType = nameParser(taskTypeSchema);
export const parseTaskId = nameParser(taskIdSchema);

/** `<QUEUE>` positional argument, validated against the queue grammar. */
export function queueArgument(): Argument {
  return new Argument("<QUEUE>", "queue name").argParser(parseQueueName);
}

/** `<ID>` positional argument, validated against the task id grammar. */
export function taskIdArgument(): Argument {
  return new Argument("<ID>", "task id").argParser(parseTaskId);
}

/**
 * Parses a duration flag value to milliseconds. Zero is allowed: `--timeout 0s` means "look
 * once and give up if the task is not final", which is handy in scripts.
 */
export function parseDurationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new InvalidArgumentError(`expected a duration such as 250ms, 30s, 5m, 1h (at most ${MAX_DURATION_MS / 86_400_000}d)`);
  }
  return ms;
}

/** Like parseDurationMs but refuses zero (a start-to-close timeout of 0 could never succeed). */
export function parsePositiveDuration(text: string): string {
  if (parseDurationMs(text) === 0) throw new InvalidArgumentError("expected a positive duration");
  // The wire takes the duration string itself; the server parses it with the same grammar.
  return text.trim();
}

/** The result of reading an `INPUT_JSON | -` argument. */
export type JsonInput = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Reads the `INPUT_JSON` argument: a JSON text, or `-` for standard input. Absent means no
 * input at all (the task's input is then left out of the request, not sent as null).
 */
export async function readJsonInput(arg: string | undefined, readStdin: () => Promise<string>): Promise<JsonInput | undefined> {
  if (arg === undefined) return undefined;
  const fromStdin = arg === "-";
  const text = fromStdin ? await readStdin() : arg;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `INPUT_JSON${fromStdin ? " (read from stdin)" : ""} is not valid JSON: ${reason}` };
  }
}
