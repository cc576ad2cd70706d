/**
 * `tqd route add|ls|rm|test|history|rollback QUEUE ...`: a queue's traffic-routing rules, which
 * send a slice of the tasks enqueued to it (a type, header values, a percentage) to another
 * queue, falling back to the source when a routed task is not started in time.
 *
 * Every change makes a new version. A change carries the version it was based on: the one
 * given with `--expect-version N`, or else the one the CLI reads just before sending, so two
 * admins editing at once get a 409 (exit 1) rather than one silently undoing the other.
 *
 * Output (see render-routes.ts): `add` prints the new rule's id, `rm` and `rollback` the new
 * version number, `ls`/`test`/`history` plain lines in pipes and tables or sentences on a
 * terminal; `--json` prints the server's answer everywhere.
 */
import type { Command } from "commander";
import type { TqdClient } from "../../lib/client/index.ts";
import type { RouteRuleInput, RouteTable } from "../../lib/protocol/index.ts";
import { addClientOptions, reportClientError } from "../client-command.ts";
import { newCommand, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";
import { prepareClientCommand, runGroup, type SubcommandGroup } from "./subcommand-group.ts";
import { parseQueueName, parseTaskId, parseTaskType, queueArgument } from "./argument-parsers.ts";
import {
  renderRouteChangeHuman,
  renderRouteHistoryHuman,
  renderRouteHistoryPlain,
  renderRoutesHuman,
  renderRoutesPlain,
  renderRouteTestHuman,
  renderRouteTestPlain,
} from "./render-routes.ts";
import {
  collectHeader,
  headersFrom,
  parseHeaderName,
  parsePercent,
  parseRuleFallback,
  parseRuleId,
  parseTypeGlob,
  parseVersion,
} from "./routing-arguments.ts";

interface CommonFlags {
  json?: boolean;
  server?: string;
  token?: string;
}

interface ChangeFlags extends CommonFlags {
  expectVersion?: number;
  force?: boolean;
}

interface AddFlags extends ChangeFlags {
  to?: string;
  type?: string;
  header?: [string, string][];
  percent?: number;
  by?: string;
  fallbackAfter?: string;
}

const GROUP: SubcommandGroup = {
  name: "route",
  subcommands: {
    add: { summary: "add a rule at the end: send matching tasks of QUEUE --to another queue", run: runAdd },
    ls: { summary: "list QUEUE's rules in the order they are tried, with their stats", run: runList },
    rm: { summary: "remove rule RULE of QUEUE", run: runRemove },
    test: { summary: "dry run: where would a task of --type T (and --header k=v) go, and by which rule", run: runTest },
    history: { summary: "list QUEUE's routing versions and what changed in each", run: runHistory },
    rollback: { summary: "bring back the rules of VERSION, as a new version", run: runRollback },
  },
  about: [
    "Rules send a slice of the tasks enqueued to QUEUE to another queue. They are tried in order; the",
    "first whose --type glob and --header values match, and whose --percent takes the task, routes it.",
    "A routed task not started within its rule's --fallback-after (default 30s) moves back to QUEUE.",
    "Every change makes a new version; a change based on a stale version is refused (409, exit 1).",
  ].join("\n"),
  examples: [
    "tqd route add images --to images-canary --type 'resize*' --percent 5",
    "tqd route add images --to images-acme --header tenant=acme",
    "tqd route ls images",
    "tqd route test images --type resize --header tenant=acme",
    "tqd route rm images r2",
    "tqd route history images",
    "tqd route rollback images 1",
  ],
};

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runGroup(GROUP, args, io);
}

const prepare = prepareClientCommand;

function changeOptions(program: Command): Command {
  return program
    .option("--expect-version <n>", "the routing version this change is based on (default: the current one, read first); a stale one is refused", parseVersion)
    .option("--json", "print the new routing table {queue, version, rules} as one JSON line");
}

/** The version to send: the one given, or the current one. */
async function baseVersion(client: TqdClient, queue: string, flags: ChangeFlags): Promise<number> {
  return flags.expectVersion ?? (await client.routes(queue)).version;
}

/** The rule the flags describe, or the usage message. */
export function ruleFromFlags(flags: AddFlags): RouteRuleInput | string {
  if (flags.to === undefined) return "missing --to: name the queue matching tasks go to";
  if (flags.by !== undefined && flags.percent === undefined) return "--by needs --percent (it picks which tasks make up the percentage)";
  const headers = headersFrom(flags.header);
  if (typeof headers === "string") return headers;
  const rule: RouteRuleInput = { to: flags.to };
  if (flags.type !== undefined) rule.type = flags.type;
  if (headers !== undefined) rule.headers = headers;
  if (flags.percent !== undefined) rule.percent = flags.percent;
  if (flags.by !== undefined) rule.by = flags.by;
  if (flags.fallbackAfter !== undefined) rule.fallbackAfter = flags.fallbackAfter;
  return rule;
}

async function runAdd(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = changeOptions(
    addClientOptions(
      newCommand("route add", io)
        .description("add a routing rule at the end of QUEUE's rules; prints the new rule's id")
        .addArgument(queueArgument())
        .option("--to <queue>", "where matching tasks go (required)", parseQueueName)
        .option("--type <glob>", "task types the rule takes, * matching any run of characters (default: all)", parseTypeGlob)
        .option("--header <name=value>", "a header the task must carry with this value; repeat for more", collectHeader)
        .option("--percent <p>", "share of matching tasks routed, 0-100 (default 100), by hash of the task id", parsePercent)
        .option("--by <header>", "with --percent: hash this header instead, so one value always lands on the same side", parseHeaderName)
        .option("--fallback-after <duration>", "a routed task not started within this moves back to QUEUE (default 30s; 0 = never)", parseRuleFallback)
        .option("--force", "add it even though no worker polls the target queue now"),
    ),
  )
    .addHelpText("after", "\nexamples:\n  tqd route add images --to images-canary --type 'resize*' --percent 5\n  tqd route add exports --to exports-big --header tier=enterprise --percent 50 --by tenant\n")
    .action((name: string) => void (queue = name));
  const prepared = prepare<AddFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  const rule = ruleFromFlags(flags);
  if (typeof rule === "string") return usageError(io, rule);
  if (rule.to === queue) return usageError(io, `--to ${queue} is the queue the rule belongs to: name another one`);
  try {
    const before = flags.expectVersion === undefined ? await client.routes(queue) : undefined;
    const expectedVersion = before?.version ?? flags.expectVersion;
    const table = await client.routeAdd(queue, { rule, ...(expectedVersion === undefined ? {} : { expectedVersion }), ...(flags.force ? { force: true } : {}) });
    const added = newRule(before, table);
    if (flags.json) io.stdout.write(JSON.stringify(table) + "\n");
    else if (io.stdout.isTTY) io.stdout.write(renderRouteChangeHuman(`added rule ${added?.id ?? "?"} (${queue} -> ${rule.to})`, table));
    else io.stdout.write(`${added?.id ?? "-"}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

/** The rule a change added: the one whose id was not there before, else the last one. */
function newRule(before: RouteTable | undefined, after: RouteTable): RouteTable["rules"][number] | undefined {
  const known = new Set(before?.rules.map((rule) => rule.id) ?? []);
  return before ? after.rules.find((rule) => !known.has(rule.id)) : after.rules.at(-1);
}

async function runList(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("route ls", io)
      .description("list QUEUE's routing rules in the order they are tried, with their stats")
      .addArgument(queueArgument())
      .option("--json", "print {queue, version, rules} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText(
    "after",
    "\nplain lines: 'version N', then per rule\n  rule ID TO TYPE HEADERS PERCENT BY FALLBACK_AFTER ROUTED STARTED FELL_BACK STRANDED   (- = none)\n",
  );
  const prepared = prepare<CommonFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const table = await client.routes(queue);
    io.stdout.write(flags.json ? JSON.stringify(table) + "\n" : io.stdout.isTTY ? renderRoutesHuman(table) : renderRoutesPlain(table));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runRemove(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  let ruleId = "";
  const program = changeOptions(
    addClientOptions(
      newCommand("route rm", io)
        .description("remove a routing rule; prints the new version")
        .addArgument(queueArgument())
        .argument("<RULE>", "rule id, as tqd route ls shows it", parseRuleId),
    ),
  ).action((name: string, rule: string) => {
    queue = name;
    ruleId = rule;
  });
  const prepared = prepare<ChangeFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const table = await client.routeRemove(queue, ruleId, await baseVersion(client, queue, flags));
    printChange(io, flags, table, `removed rule ${ruleId}`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runRollback(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  let version = 0;
  const program = changeOptions(
    addClientOptions(
      newCommand("route rollback", io)
        .description("bring back the rules of an earlier version, as a new version; prints the new version")
        .addArgument(queueArgument())
        .argument("<VERSION>", "the version to bring back, as tqd route history shows it (0: no rules)", parseVersion)
        .option("--force", "roll back even though no worker polls one of its target queues now"),
    ),
  ).action((name: string, wanted: number) => {
    queue = name;
    version = wanted;
  });
  const prepared = prepare<ChangeFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const expectedVersion = await baseVersion(client, queue, flags);
    const table = await client.routeRollback(queue, { version, expectedVersion, ...(flags.force ? { force: true } : {}) });
    printChange(io, flags, table, `rolled back to the rules of version ${version}`);
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

function printChange(io: CliIo, flags: ChangeFlags, table: RouteTable, what: string): void {
  if (flags.json) io.stdout.write(JSON.stringify(table) + "\n");
  else io.stdout.write(io.stdout.isTTY ? renderRouteChangeHuman(what, table) : `${table.version}\n`);
}

async function runTest(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("route test", io)
      .description("dry run: where would a task enqueued to QUEUE go, and by which rule (nothing is enqueued or counted)")
      .addArgument(queueArgument())
      .option("--type <type>", "the task's type (required)", parseTaskType)
      .option("--header <name=value>", "a header of the task; repeat for more", collectHeader)
      .option("--id <id>", "the task's id, which decides percentages (default: a random one)", parseTaskId)
      .option("--json", "print {queue, ruleId?, fallbackAfterMs?} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", "\nplain output: QUEUE RULE FALLBACK_AFTER ('QUEUE - -' when the task stays on QUEUE)\n");
  const prepared = prepare<CommonFlags & { type?: string; header?: [string, string][]; id?: string }>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  if (flags.type === undefined) return usageError(io, "missing --type: name the task type to route");
  const headers = headersFrom(flags.header);
  if (typeof headers === "string") return usageError(io, headers);
  try {
    const answer = await client.routeTest(queue, { type: flags.type, ...(headers ? { headers } : {}), ...(flags.id === undefined ? {} : { id: flags.id }) });
    io.stdout.write(flags.json ? JSON.stringify(answer) + "\n" : io.stdout.isTTY ? renderRouteTestHuman(queue, flags.type, answer) : renderRouteTestPlain(answer));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}

async function runHistory(args: readonly string[], io: CliIo): Promise<number> {
  let queue = "";
  const program = addClientOptions(
    newCommand("route history", io)
      .description("list QUEUE's routing versions, oldest first, with what each changed")
      .addArgument(queueArgument())
      .option("--json", "print {queue, versions} as one JSON line")
      .action((name: string) => void (queue = name)),
  ).addHelpText("after", "\nplain lines: VERSION CREATED_AT RULES CHANGE (CHANGE is the rest of the line)\n");
  const prepared = prepare<CommonFlags>(program, args, io);
  if (typeof prepared === "number") return prepared;
  const { client, flags } = prepared;
  try {
    const history = await client.routeHistory(queue);
    io.stdout.write(flags.json ? JSON.stringify(history) + "\n" : io.stdout.isTTY ? renderRouteHistoryHuman(history) : renderRouteHistoryPlain(history));
    return EXIT.ok;
  } catch (error) {
    return reportClientError(io, error);
  }
}
