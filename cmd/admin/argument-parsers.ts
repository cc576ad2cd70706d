/**
 * Local validation of admin-command arguments, so a typo fails with exit 2 and the argument's
 * name before any request is sent. The grammars come from lib/protocol, so the CLI can never
 * accept a name the server would refuse (or refuse one it would accept).
 */
import { Argument, InvalidArgumentError } from "commander";
import {
  MAX_DURATION_MS,
  decodeCompletionToken,
  fairnessKeySchema,
  isQueueName,
  isTaskId,
  parseDuration,
  parseRate,
  queueNameSchema,
  runAtSchema,
  TASK_TYPE_PATTERN,
  taskIdSchema,
  taskTypeSchema,
  type CompletionToken,
} from "../../lib/protocol/index.ts";

/**
 * Turns a protocol name schema into a commander parser whose error text is the schema's rule.
 * `accepts` is the schema's own pattern: a good name passes without building the schema (about
 * 2 ms of a command's start, cold); zod words what it refuses.
 */
function nameParser(schema: typeof queueNameSchema, accepts: (text: string) => boolean) {
  return (text: string): string => {
    if (accepts(text)) return text;
    const parsed = schema.safeParse(text);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? "invalid value");
    return parsed.data;
  };
}

export const parseQueueName = nameParser(queueNameSchema, isQueueName);
export const parseTaskType = nameParser(taskTypeSchema, (text) => TASK_TYPE_PATTERN.test(text));
export const parseTaskId = nameParser(taskIdSchema, isTaskId);

/**
 * A rate flag (`--rate`, `--key-rate`): `50/s`, `3000/m`, `10/h`. Checked with the protocol's
 * parser; the text itself goes on the wire, where the server parses it the same way.
 */
export function parseRateText(text: string): string {
  if (parseRate(text) === undefined) throw new InvalidArgumentError("expected a rate such as 50/s, 3000/m or 10/h");
  return text.trim();
}

/** A fairness key (`--key`, `--fairness-key`): 1-255 characters, as in the protocol. */
export function parseFairnessKey(text: string): string {
  const parsed = fairnessKeySchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError("expected a key of 1-255 characters");
  return parsed.data;
}

/**
 * `tqd queues --prefix`: the start of a queue name, so it uses the queue grammar (a character
 * no queue name has would only ever match nothing, which is most likely a typo).
 */
export function parseQueuePrefix(text: string): string {
  const parsed = queueNameSchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`not the start of a queue name: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

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

/**
 * Parses `--at`: an ISO 8601 time with a UTC offset (`2026-10-01T12:00:00Z`,
 * `2026-10-01T14:00:00+02:00`). Checked with the server's own schema, so the CLI accepts exactly
 * what the server does; a time without an offset is refused rather than read in some zone.
 */
export function parseRunAt(text: string): string {
  if (!runAtSchema.safeParse(text).success) {
    throw new InvalidArgumentError("expected an ISO 8601 time with a UTC offset, such as 2026-10-01T12:00:00Z or 2026-10-01T14:00:00+02:00");
  }
  return text;
}

/** `--backoff INITIAL[,COEFFICIENT[,MAX]]`, e.g. `1s,2,1m`; absent parts keep the server's defaults. */
export interface Backoff {
  initialInterval: string;
  backoffCoefficient?: number;
  maxInterval?: string;
}

/** Upper bound of the backoff coefficient, as in the protocol's retry policy. */
const MAX_BACKOFF_COEFFICIENT = 100;

/** Parses `--backoff`; checks coefficient >= 1 and MAX >= INITIAL (the server checks them too). */
export function parseBackoff(text: string): Backoff {
  const parts = text.split(",").map((part) => part.trim());
  const [initial, coefficient, max] = parts;
  if (parts.length > 3 || initial === undefined || initial === "") {
    throw new InvalidArgumentError("expected INITIAL[,COEFFICIENT[,MAX]], such as 1s or 1s,2 or 1s,2,1m");
  }
  const initialMs = parseDuration(initial);
  if (initialMs === undefined || initialMs === 0) throw new InvalidArgumentError(`INITIAL '${initial}' is not a positive duration such as 500ms, 1s, 1m`);
  const backoff: Backoff = { initialInterval: initial };
  if (coefficient !== undefined && coefficient !== "") {
    const value = /^\d+(\.\d+)?$/.test(coefficient) ? Number(coefficient) : NaN;
    if (!(value >= 1 && value <= MAX_BACKOFF_COEFFICIENT)) {
      throw new InvalidArgumentError(`COEFFICIENT '${coefficient}' must be a number from 1 to ${MAX_BACKOFF_COEFFICIENT}`);
    }
    backoff.backoffCoefficient = value;
  }
  if (max !== undefined) {
    const maxMs = parseDuration(max);
    if (maxMs === undefined || maxMs === 0) throw new InvalidArgumentError(`MAX '${max}' is not a positive duration such as 30s, 5m, 1h`);
    if (maxMs < initialMs) throw new InvalidArgumentError(`MAX (${max}) must not be below INITIAL (${initial})`);
    backoff.maxInterval = max;
  }
  return backoff;
}

/** Longest error type, as in the protocol's task error. */
const MAX_ERROR_TYPE_CHARS = 255;

/** An error type name (`--non-retryable`, `tqd fail --type`): 1-255 characters. */
export function parseErrorType(text: string): string {
  if (text.length === 0 || text.length > MAX_ERROR_TYPE_CHARS) {
    throw new InvalidArgumentError(`expected an error type of 1-${MAX_ERROR_TYPE_CHARS} characters`);
  }
  return text;
}

/** A completion token as printed by a handler's `ctx.completeLater()`. */
export function parseCompletionToken(text: string): CompletionToken {
  const token = decodeCompletionToken(text.trim());
  if (!token) throw new InvalidArgumentError("not a completion token (expected tqd1~TASK_ID~LEASE, as a handler's ctx.completeLater() gives it)");
  return token;
}

/** `<TOKEN>` positional argument of `tqd complete` and `tqd fail`. */
export function completionTokenArgument(): Argument {
  return new Argument("<TOKEN>", "completion token from the handler's ctx.completeLater()").argParser(parseCompletionToken);
}

/** The result of reading an `INPUT_JSON | -` argument. */
export type JsonInput = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Reads the `INPUT_JSON` argument: a JSON text, or `-` for standard input. Absent means no
 * input at all (the task's input is then left out of the request, not sent as null).
 */
export async function readJsonInput(
  arg: string | undefined,
  readStdin: () => Promise<string>,
  name = "INPUT_JSON",
): Promise<JsonInput | undefined> {
  if (arg === undefined) return undefined;
  const fromStdin = arg === "-";
  const text = fromStdin ? await readStdin() : arg;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `${name}${fromStdin ? " (read from stdin)" : ""} is not valid JSON: ${reason}` };
  }
}
