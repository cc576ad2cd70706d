/**
 * What every command that talks to a server shares: the --server/--token flags, building the
 * client, and turning client errors into exit codes and one clear line on stderr.
 */
import type { Command } from "commander";
import { TqdApiError, TqdClient, TqdProtocolError, TqdUnreachableError } from "../lib/client/index.ts";
import { ConfigError, resolveClientConfig } from "../lib/config/index.ts";
import { usageError } from "./command-line.ts";
import { EXIT, type CliIo } from "./io.ts";

/** Adds `--server` and `--token` to a command. */
export function addClientOptions(program: Command): Command {
  return program
    .option("--server <url>", "server URL (env TQD_SERVER, default http://127.0.0.1:7070)")
    .option("--token <token>", "API token (env TQD_TOKEN)");
}

/** Builds a client from the parsed flags, or returns the usage exit code after printing why. */
export function clientFromFlags(
  flags: { server?: string; token?: string },
  io: CliIo,
  options: { transportRetries?: number; transport?: "http" | "stream" } = {},
): TqdClient | number {
  try {
    const config = resolveClientConfig({ flags, env: io.env });
    return new TqdClient({ baseUrl: config.serverUrl, token: config.token, ...options });
  } catch (error) {
    if (error instanceof ConfigError) return usageError(io, error);
    throw error;
  }
}

/** Prints a failed client call and returns its exit code (3 unreachable, 1 otherwise). */
export function reportClientError(io: CliIo, error: unknown): number {
  if (error instanceof TqdUnreachableError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT.unreachable;
  }
  if (error instanceof TqdApiError) {
    io.stderr.write(`error: ${error.code}: ${error.message}\n`);
    return EXIT.failure;
  }
  if (error instanceof TqdProtocolError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT.failure;
  }
  throw error;
}
