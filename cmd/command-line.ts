/**
 * Commander set up the way every tqd command needs it: no process.exit, output through the
 * injected streams, and usage errors turned into exit code 2 with a message naming the flag.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigError } from "../lib/config/index.ts";
import { EXIT, type CliIo } from "./io.ts";

/** Creates a commander program for one subcommand, wired to `io`. */
export function newCommand(name: string, io: CliIo): Command {
  return new Command(`tqd ${name}`)
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
}

/**
 * Parses `args` with `program`. Returns undefined when parsing succeeded, or the exit code to
 * return (0 after --help, 2 after a usage error, which commander has already printed).
 */
export function parseArgs(program: Command, args: readonly string[]): number | undefined {
  try {
    program.parse([...args], { from: "user" });
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
}

/** Prints a ConfigError (or another usage problem) and returns exit code 2. */
export function usageError(io: CliIo, error: ConfigError | string): number {
  const message = typeof error === "string" ? error : error.message;
  io.stderr.write(`error: ${message}\n`);
  return EXIT.usage;
}

/** A commander argument parser that accepts whole numbers within [min, max]. */
export function integerOption(min: number, max: number) {
  return (text: string): number => {
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

/** A commander argument parser that collects repeated values into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
