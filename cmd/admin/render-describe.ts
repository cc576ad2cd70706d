/**
 * How `tqd describe QUEUE` shows a queue.
 *
 * - plain (pipes): stable lines for scripts, the first word naming the line. Every scalar line
 *   is always printed, in this order, `-` standing for "none":
 *     queue NAME
 *     paused true|false
 *     scheduled N / pending N / running N / completed N / failed N / canceled N / timedOut N
 *     backlog N                         pending tasks
 *     oldestPendingAgeMs MS|-           age of the oldest pending task
 *     backlogInStore N                  of the backlog, tasks that wait in the store only
 *     addedLastMinute N
 *     dispatchedLastMinute N
 *     rateLimit RATE BURST SOURCE [DECLARED_BY]   in force; SOURCE is admin, poller or none
 *                                                 (`rateLimit - - none`)
 *     adminLimit RATE BURST|- -         the one `tqd limit` set
 *     pollerTypesDiffer true|false      live pollers do not all handle the same types
 *   then one line per live poller, per unhandled type and per fairness key:
 *     poller IDENTITY HOST FREE_SLOTS WAITING LAST_SEEN RATE TYPES
 *     typeWithoutPoller TYPE            pending tasks of a type no live poller handles
 *     fairnessKey KEY WEIGHT RATE PENDING
 *     route RULE_ID TARGET ROUTED STARTED FELL_BACK STRANDED   traffic rules, in order
 *   RATE is `50/s`-style or `-`; TYPES is comma-separated (types never contain commas); HOST is
 *   `-` when the worker sent none; IDENTITY, HOST and KEY are JSON-quoted when they contain
 *   spaces or are empty (tasks enqueued without a fairness key are counted under the key `""`,
 *   shown as `(no key)` on a TTY). New lines may be added in later versions; existing ones keep their columns.
 * - human (TTY): a summary block, then the pollers and fairness keys as tables, warnings
 *   marked with `!`. Times are relative to `nowMs` (the reader's clock).
 */
import { formatRate, type DescribeResponse, type FairnessKeyView, type PollerView, type RateLimitView } from "../../lib/protocol/index.ts";
import { escapeColumn, escapeControlCharacters, renderTable } from "./text-layout.ts";

type Counts = DescribeResponse["counts"];

/** State counts in lifecycle order, with their plain keys and human labels. */
const COUNT_FIELDS: readonly (readonly [key: keyof Counts, label: string])[] = [
  ["scheduled", "scheduled"],
  ["pending", "pending"],
  ["running", "running"],
  ["completed", "completed"],
  ["failed", "failed"],
  ["canceled", "canceled"],
  ["timedOut", "timed out"],
];

const rateOrDash = (ratePerSecond: number | undefined) => (ratePerSecond === undefined ? "-" : formatRate(ratePerSecond));
const limitColumns = (limit: RateLimitView | null) => (limit ? `${formatRate(limit.ratePerSecond)} ${limit.burst}` : "- -");

/** The stable lines for scripts (see the header). */
export function renderDescribePlain(queue: DescribeResponse): string {
  const { rateLimit } = queue;
  const effective = [limitColumns(rateLimit.effective), rateLimit.source, ...(rateLimit.declaredBy === undefined ? [] : [escapeColumn(rateLimit.declaredBy)])];
  const lines = [
    `queue ${queue.name}`,
    `paused ${queue.paused}`,
    ...COUNT_FIELDS.map(([key]) => `${key} ${queue.counts[key]}`),
    `backlog ${queue.backlog.pending}`,
    `oldestPendingAgeMs ${queue.backlog.oldestPendingAgeMs ?? "-"}`,
    `backlogInStore ${queue.backlog.inStore ?? 0}`,
    `addedLastMinute ${queue.lastMinute.added}`,
    `dispatchedLastMinute ${queue.lastMinute.dispatched}`,
    `rateLimit ${effective.join(" ")}`,
    `adminLimit ${limitColumns(rateLimit.admin)}`,
    `pollerTypesDiffer ${queue.pollerTypesDiffer}`,
    ...queue.pollers.map(renderPollerPlain),
    ...queue.typesWithoutPoller.map((type) => `typeWithoutPoller ${type}`),
    ...queue.fairness.map((key) => `fairnessKey ${renderFairnessColumns(key)}`),
    ...(queue.routes?.rules ?? []).map((r) => `route ${r.id} ${r.to} ${r.stats.routed} ${r.stats.started} ${r.stats.fellBack} ${r.stats.stranded}`),
  ];
  return lines.map((line) => line + "\n").join("");
}

function renderPollerPlain(poller: PollerView): string {
  const host = poller.host === undefined ? "-" : escapeColumn(poller.host);
  const columns = [escapeColumn(poller.identity), host, poller.freeSlots, poller.waiting, poller.lastSeen, rateOrDash(poller.declaredRatePerSecond), poller.types.join(",")];
  return `poller ${columns.join(" ")}`;
}

/** `KEY WEIGHT RATE PENDING`, as in describe's `fairnessKey` lines and `tqd fairness`. */
export function renderFairnessColumns(key: FairnessKeyView): string {
  return [escapeColumn(key.key), key.weight, rateOrDash(key.ratePerSecond), key.pending].join(" ");
}

/** Sections for a person at a terminal (see the header). */
export function renderDescribeHuman(queue: DescribeResponse, nowMs: number): string {
  const summary: [string, string][] = [
    ["queue", queue.paused ? `${queue.name}  PAUSED: accepts tasks, dispatches none (tqd resume ${queue.name})` : queue.name],
    ["tasks", COUNT_FIELDS.map(([key, label]) => `${queue.counts[key]} ${label}`).join(", ")],
    ["backlog", describeBacklog(queue.backlog)],
    ["last minute", `${queue.lastMinute.added} added, ${queue.lastMinute.dispatched} dispatched`],
    ["rate limit", describeRateLimit(queue.rateLimit)],
  ];
  const width = Math.max(...summary.map(([label]) => label.length)) + 1;
  const sections = [summary.map(([label, value]) => `${(label + ":").padEnd(width)} ${value}\n`).join(""), renderPollersHuman(queue, nowMs)];
  if (queue.fairness.length > 0) sections.push(renderFairnessHuman(queue.fairness));
  if (queue.routes && queue.routes.rules.length > 0) {
    const rows = queue.routes.rules.map((r) => [r.id, r.to, String(r.stats.routed), String(r.stats.started), String(r.stats.fellBack), String(r.stats.stranded)]);
    sections.push(`routing rules (version ${queue.routes.version}):\n` + renderTable([["RULE", "TO", "ROUTED", "STARTED", "FELL BACK", "STRANDED"], ...rows]));
  }
  return sections.join("\n");
}

function describeBacklog(backlog: DescribeResponse["backlog"]): string {
  if (backlog.pending === 0) return "empty";
  const oldest = backlog.oldestPendingAgeMs === undefined ? "" : `, the oldest waiting for ${formatAge(backlog.oldestPendingAgeMs)}`;
  const inStore = backlog.inStore ? ` (${backlog.inStore} of them waiting in the store)` : "";
  return `${backlog.pending} pending${inStore}${oldest}`;
}

function describeRateLimit(rateLimit: DescribeResponse["rateLimit"]): string {
  const { effective, source, declaredBy } = rateLimit;
  if (!effective || source === "none") return "none";
  const limit = `${formatRate(effective.ratePerSecond)}, bursts of up to ${effective.burst}`;
  if (source === "admin") return `${limit} (set with tqd limit)`;
  const worker = declaredBy === undefined ? "a worker" : `worker ${escapeControlCharacters(declaredBy)}`;
  return `${limit} (declared by ${worker} with --queue-rate)`;
}

const POLLER_HEADERS = ["IDENTITY", "HOST", "TYPES", "FREE", "LAST SEEN", "RATE"];

function renderPollersHuman(queue: DescribeResponse, nowMs: number): string {
  const warnings: string[] = [];
  if (queue.pollerTypesDiffer) warnings.push("! live pollers handle different task types (see TYPES)");
  if (queue.typesWithoutPoller.length > 0) {
    warnings.push(`! pending tasks of types no live poller handles: ${queue.typesWithoutPoller.join(", ")}`);
  }
  const title = queue.pollers.length === 0 ? "pollers: none\n" : `pollers (${queue.pollers.length}):\n`;
  const rows = queue.pollers.map((poller) => [
    escapeControlCharacters(poller.identity),
    poller.host === undefined ? "-" : escapeControlCharacters(poller.host),
    poller.types.join(", "),
    String(poller.freeSlots),
    poller.waiting ? "polling now" : `${formatAge(nowMs - Date.parse(poller.lastSeen))} ago`,
    rateOrDash(poller.declaredRatePerSecond),
  ]);
  const table = rows.length === 0 ? "" : renderTable([POLLER_HEADERS, ...rows], { indent: "  ", align: ["left", "left", "left", "right"] });
  return title + table + warnings.map((warning) => `  ${warning}\n`).join("");
}

const FAIRNESS_HEADERS = ["KEY", "WEIGHT", "RATE", "PENDING"];

function renderFairnessHuman(keys: readonly FairnessKeyView[]): string {
  const rows = keys.map((key) => [key.key === "" ? "(no key)" : escapeControlCharacters(key.key), String(key.weight), rateOrDash(key.ratePerSecond), String(key.pending)]);
  return `fairness keys (${keys.length}):\n` + renderTable([FAIRNESS_HEADERS, ...rows], { indent: "  ", align: ["left", "right", "left", "right"] });
}

/** A wait or an age for people: `850ms`, `5.2s`, `3m 12s`, `2h 5m`, `1d 3h`. */
export function formatAge(ms: number): string {
  const clamped = Math.max(0, Math.round(ms));
  if (clamped < 1_000) return `${clamped}ms`;
  const seconds = Math.floor(clamped / 1_000);
  if (seconds < 60) return `${Math.floor(clamped / 100) / 10}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
