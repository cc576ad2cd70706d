/**
 * Local validation of the routing flags (`--header`, `--percent`, `--by`, `--type` globs,
 * `--fallback-after`, versions), shared by `tqd enqueue` and `tqd route`. The grammars come from
 * the protocol's schemas, so the CLI refuses exactly what the server would.
 */
import { InvalidArgumentError } from "commander";
import { headersSchema, parseDuration, typeGlobSchema } from "../../lib/protocol/index.ts";

/** Most headers one task or rule may carry, as in the protocol. */
export const MAX_HEADERS = 32;

/** One `--header NAME=VALUE`, as a [name, value] pair. */
export function parseHeader(text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("expected NAME=VALUE, such as tenant=acme");
  const name = text.slice(0, at);
  const value = text.slice(at + 1);
  const parsed = headersSchema.safeParse({ [name]: value });
  if (!parsed.success) throw new InvalidArgumentError(`${parsed.error.issues[0]?.message ?? "invalid header"} (names: 1-64 of A-Z a-z 0-9 . _ -; values: at most 1024 characters)`);
  return [name, value];
}

/** Collects repeated `--header` flags. */
export function collectHeader(text: string, previous: [string, string][] | undefined): [string, string][] {
  return [...(previous ?? []), parseHeader(text)];
}

/** The `--header` pairs as the protocol's record, or the usage message (a name given twice, too many). */
export function headersFrom(pairs: readonly [string, string][] | undefined): Record<string, string> | string | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (Object.hasOwn(headers, name)) return `--header ${name} is given twice: give each header once`;
    headers[name] = value;
  }
  if (pairs.length > MAX_HEADERS) return `--header may be given at most ${MAX_HEADERS} times`;
  return headers;
}

/** A header name (`--by`). */
export function parseHeaderName(text: string): string {
  parseHeader(`${text}=`);
  return text;
}

/** `--type GLOB` of a rule: task type characters and `*`. */
export function parseTypeGlob(text: string): string {
  const parsed = typeGlobSchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError("expected a task type or a glob such as resize or image.* (A-Z a-z 0-9 . _ - : @ / and *)");
  return parsed.data;
}

/** `--percent P`: 0-100, decimals allowed, an optional trailing `%`. */
export function parsePercent(text: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!(value >= 0 && value <= 100)) throw new InvalidArgumentError("expected a percentage from 0 to 100, such as 10 or 2.5");
  return value;
}

/** A rule's `--fallback-after`: a duration, or 0 for never (the routed task then waits in the target). */
export function parseRuleFallback(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "0" || trimmed === "0s") return "0s";
  if (parseDuration(trimmed) === undefined) throw new InvalidArgumentError("expected a duration such as 30s or 5m, or 0 for never");
  return trimmed;
}

/** A routing version (`VERSION`, `--expect-version`): a whole number >= 0. */
export function parseVersion(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError("expected a version number (0, 1, 2, ...), as tqd route ls or history shows");
  return value;
}

/** A rule id (`RULE`), as `tqd route ls` shows it. */
export function parseRuleId(text: string): string {
  if (!/^[A-Za-z0-9._\-:@]{1,255}$/.test(text)) throw new InvalidArgumentError("expected a rule id such as r3, as tqd route ls shows it");
  return text;
}
