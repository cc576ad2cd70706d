/**
 * Commands made of subcommands (`tqd dead ls|requeue|purge`, `tqd route add|ls|...`): the
 * first argument picks the subcommand, and each subcommand is its own commander program so its
 * usage errors and --help name its own flags.
 */
import type { Command } from "commander";
import type { TqdClient } from "../../lib/client/index.ts";
import { clientFromFlags } from "../client-command.ts";
import { parseArgs, usageError } from "../command-line.ts";
import { EXIT, type CliIo } from "../io.ts";

export type Subcommand = (args: readonly string[], io: CliIo) => Promise<number>;

export interface SubcommandGroup {
  /** The command word, e.g. "dead". */
  name: string;
  subcommands: Record<string, { summary: string; run: Subcommand }>;
  /** What follows the subcommand in the usage line (default "QUEUE"). */
  operand?: string;
  /** What goes between the usage line and the subcommand list. */
  about: string;
  examples: readonly string[];
}

export function groupHelp(group: SubcommandGroup): string {
  const names = Object.keys(group.subcommands);
  const width = Math.max(...names.map((name) => name.length)) + 1;
  return [
    `usage: tqd ${group.name} <${names.join("|")}> ${group.operand ?? "QUEUE"} [options]   (tqd ${group.name} <subcommand> --help for its options)`,
    "",
    group.about,
    "",
    "subcommands:",
    ...Object.entries(group.subcommands).map(([name, command]) => `  ${name.padEnd(width)} ${command.summary}`),
    "",
    "examples:",
    ...group.examples.map((example) => `  ${example}`),
    "",
  ].join("\n");
}

/** Runs the subcommand named by `args[0]`, or prints the group's help. */
export function runGroup(group: SubcommandGroup, args: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? io.stderr : io.stdout).write(groupHelp(group));
    return Promise.resolve(name === undefined ? EXIT.usage : EXIT.ok);
  }
  const names = Object.keys(group.subcommands);
  const subcommand = Object.hasOwn(group.subcommands, name) ? group.subcommands[name] : undefined;
  if (!subcommand && name.startsWith("-")) {
    return Promise.resolve(usageError(io, `give the subcommand first: tqd ${group.name} <${names.join("|")}> ${group.operand ?? "QUEUE"} [options] (got '${name}')`));
  }
  if (!subcommand) return Promise.resolve(usageError(io, `unknown subcommand '${group.name} ${name}' (expected ${names.join(", ")})`));
  return subcommand.run(rest, io);
}

/** Parses a subcommand's args and builds the client; returns the client, or the exit code. */
export function prepareClientCommand<F extends { server?: string; token?: string }>(
  program: Command,
  args: readonly string[],
  io: CliIo,
): { client: TqdClient; flags: F } | number {
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  const flags = program.opts<F>();
  const client = clientFromFlags(flags, io);
  return typeof client === "number" ? client : { client, flags };
}
