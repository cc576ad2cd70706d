/**
 * How `tqd route` shows routing tables, dry runs and history.
 *
 * Plain (pipes), lines whose first word names them; `-` means none:
 *   version 3
 *   rule ID TO TYPE HEADERS PERCENT BY FALLBACK_AFTER ROUTED STARTED FELL_BACK STRANDED
 * one `rule` line per rule, in the order they are tried. HEADERS is `name=value[,name=value]`
 * (a value with spaces, quotes, `,` or `=` is JSON-quoted), FALLBACK_AFTER a duration (`0s`:
 * never), the counts `-` when the server sent no stats. `route test` prints `QUEUE RULE
 * FALLBACK_AFTER` (`files - -` when the task stays); `route history` one `VERSION CREATED_AT
 * RULES CHANGE` line per version, CHANGE being the rest of the line.
 *
 * Human (TTY): a sentence, then a table.
 */
import { formatDuration, type RouteHistoryResponse, type RouteTable, type RouteTestResponse } from "../../lib/protocol/index.ts";
import { escapeColumn, escapeControlCharacters, renderTable } from "./text-layout.ts";

type RuleView = RouteTable["rules"][number];

/** `name=value,...`, each part kept to one column. */
function headersColumn(headers: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return "-";
  return entries.map(([name, value]) => `${name}=${/[,=]/.test(value) ? JSON.stringify(value) : escapeColumn(value)}`).join(",");
}

function fallbackText(ms: number | undefined): string {
  if (ms === undefined) return "-";
  return ms === 0 ? "0s" : formatDuration(ms);
}

/** What a rule matches, for people: `type resize*, tenant=acme` or `all tasks`. */
function matchText(rule: RuleView): string {
  const parts = [rule.type === undefined ? undefined : `type ${rule.type}`, ...Object.entries(rule.headers ?? {}).map(([name, value]) => `${name}=${escapeControlCharacters(value)}`)];
  const match = parts.filter((part) => part !== undefined).join(", ");
  return match === "" ? "all tasks" : match;
}

function shareText(rule: RuleView): string {
  if (rule.percent >= 100) return "100%";
  return `${rule.percent}%${rule.by === undefined ? "" : ` by ${rule.by}`}`;
}

export function renderRoutesPlain(table: RouteTable): string {
  const lines = [`version ${table.version}`];
  for (const rule of table.rules) {
    const stats = rule.stats;
    lines.push(
      [
        "rule",
        rule.id,
        rule.to,
        rule.type ?? "-",
        headersColumn(rule.headers),
        String(rule.percent),
        rule.by ?? "-",
        fallbackText(rule.fallbackAfterMs),
        ...(stats ? [stats.routed, stats.started, stats.fellBack, stats.stranded].map(String) : ["-", "-", "-", "-"]),
      ].join(" "),
    );
  }
  return lines.join("\n") + "\n";
}

export function renderRoutesHuman(table: RouteTable): string {
  if (table.rules.length === 0) return `${table.queue}: no routing rules (version ${table.version}); every task stays on ${table.queue}\n`;
  const count = (value: number | undefined) => (value === undefined ? "-" : String(value));
  const rows = table.rules.map((rule, index) => [
    String(index + 1),
    rule.id,
    matchText(rule),
    shareText(rule),
    rule.to,
    rule.fallbackAfterMs === 0 ? "never" : fallbackText(rule.fallbackAfterMs),
    count(rule.stats?.routed),
    count(rule.stats?.started),
    count(rule.stats?.fellBack),
    count(rule.stats?.stranded),
  ]);
  return (
    `${table.queue}: ${table.rules.length} routing rule${table.rules.length === 1 ? "" : "s"} (version ${table.version}), tried in order; the first that takes a task routes it\n\n` +
    renderTable([["#", "RULE", "MATCH", "SHARE", "TO", "FALLBACK", "ROUTED", "STARTED", "FELL BACK", "STRANDED"], ...rows], {
      align: ["right", "left", "left", "right", "left", "left", "right", "right", "right", "right"],
    })
  );
}

export function renderRouteTestPlain(answer: RouteTestResponse): string {
  return [answer.queue, answer.ruleId ?? "-", fallbackText(answer.fallbackAfterMs)].join(" ") + "\n";
}

export function renderRouteTestHuman(source: string, type: string, answer: RouteTestResponse): string {
  if (answer.ruleId === undefined) return `a ${type} task enqueued to ${source} would stay on ${answer.queue} (no rule takes it)\n`;
  const back =
    answer.fallbackAfterMs === undefined || answer.fallbackAfterMs === 0
      ? "it never falls back"
      : `back to ${source} if not started within ${formatDuration(answer.fallbackAfterMs)}`;
  return `a ${type} task enqueued to ${source} would go to ${answer.queue} by rule ${answer.ruleId} (${back})\n`;
}

export function renderRouteHistoryPlain(history: RouteHistoryResponse): string {
  return history.versions.map((entry) => `${entry.version} ${entry.createdAt} ${entry.rules.length} ${escapeControlCharacters(entry.change)}\n`).join("");
}

export function renderRouteHistoryHuman(history: RouteHistoryResponse): string {
  if (history.versions.length === 0) return `${history.queue}: no routing changes yet (version 0: no rules)\n`;
  const rows = history.versions.map((entry) => [String(entry.version), entry.createdAt, String(entry.rules.length), escapeControlCharacters(entry.change)]);
  return (
    `${history.queue}: routing versions, oldest first ('tqd route rollback ${history.queue} VERSION' brings one back as a new version)\n\n` +
    renderTable([["VERSION", "CREATED", "RULES", "CHANGE"], ...rows], { align: ["right", "left", "right", "left"] })
  );
}

/** The sentence a change prints on a terminal. */
export function renderRouteChangeHuman(what: string, table: RouteTable): string {
  return `${what}; ${table.queue} is now at routing version ${table.version} with ${table.rules.length} rule${table.rules.length === 1 ? "" : "s"}\n`;
}
