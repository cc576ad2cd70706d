/**
 * Settings of `tqd serve`, resolved in layers: defaults, then environment, then flags. The
 * function is pure (it gets env and home directory as arguments) and validates everything once.
 */
import { parseDuration } from "../protocol/index.ts";
import { ConfigError } from "./config-error.ts";
import { isLoopbackHost, parseBytes, parseChoice, parseInteger, parseListen, type ListenAddress } from "./parse-values.ts";

export const DEFAULT_LISTEN = "127.0.0.1:7070";
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/** Mirrors lib/log's formats and levels; config imports nothing from tqd but zod. */
export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface ServeFlags {
  listen?: string | undefined;
  data?: string | undefined;
  token?: string | undefined;
  maxBody?: string | undefined;
  insecure?: boolean | undefined;
  logFormat?: string | undefined;
  logLevel?: string | undefined;
  retention?: string | undefined;
  stickyTimeout?: string | undefined;
  memoryBacklog?: string | undefined;
}

export const DEFAULT_RETENTION = "7d";
export const DEFAULT_STICKY_TIMEOUT = "5s";
/** Mirrors lib/core's DEFAULT_HOT_TASKS; config imports nothing from tqd but zod. */
export const DEFAULT_MEMORY_BACKLOG = 20_000;

export interface ServeConfig {
  readonly listen: ListenAddress;
  readonly dataDir: string;
  readonly token: string | undefined;
  readonly maxBodyBytes: number;
  /** Listening beyond loopback without a token was explicitly allowed. */
  readonly insecure: boolean;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  /** How long final tasks are kept (with their result or error) before they are deleted. */
  readonly retentionMs: number;
  /** How long a workflow task waits for the worker that holds the workflow in its cache. */
  readonly stickyTimeoutMs: number;
  /** Live tasks kept in memory; beyond, new pending ones wait in the store (lib/core/cold-tail.ts). */
  readonly memoryBacklog: number;
  /** Warnings to print at start (e.g. an insecure listen). */
  readonly warnings: readonly string[];
}

export interface ServeConfigInput {
  flags: ServeFlags;
  env: Readonly<Record<string, string | undefined>>;
}

/** Resolves and validates serve settings; throws ConfigError naming the flag at fault. */
export function resolveServeConfig({ flags, env }: ServeConfigInput): Readonly<ServeConfig> {
  const listenText = flags.listen ?? env.TQD_LISTEN ?? DEFAULT_LISTEN;
  const listen = parseListen("--listen (TQD_LISTEN)", listenText);
  const dataDir = flags.data ?? nonEmpty(env.TQD_DATA) ?? defaultDataDir(env);
  if (dataDir.trim() === "") throw new ConfigError("--data", "invalid --data (TQD_DATA): the data directory must not be empty");
  const token = flags.token ?? nonEmpty(env.TQD_TOKEN);
  if (token !== undefined && (token.length < 8 || /\s/.test(token))) {
    throw new ConfigError("--token", "invalid --token (TQD_TOKEN): use at least 8 characters and no spaces");
  }
  const maxBodyBytes = parseBytes("--max-body", flags.maxBody ?? String(DEFAULT_MAX_BODY_BYTES), 1024, 256 << 20);
  const insecure = flags.insecure === true;
  const warnings: string[] = [];
  if (!isLoopbackHost(listen.host) && token === undefined) {
    if (!insecure) {
      throw new ConfigError(
        "--listen",
        `refusing to listen on ${listen.host} without --token (TQD_TOKEN); pass --insecure to allow anyone who can reach the port to use the API`,
      );
    }
    warnings.push(`listening on ${listen.host} without a token: anyone who can reach port ${listen.port} can use the API`);
  }
  const logFormat = parseChoice("--log-format", flags.logFormat ?? env.TQD_LOG_FORMAT ?? "text", ["text", "json"] as const);
  const logLevel = parseChoice("--log-level", flags.logLevel ?? env.TQD_LOG_LEVEL ?? "info", ["debug", "info", "warn", "error"] as const);
  const retentionText = flags.retention ?? env.TQD_RETENTION ?? DEFAULT_RETENTION;
  const retentionMs = parseDuration(retentionText);
  if (retentionMs === undefined || retentionMs < 60_000) {
    throw new ConfigError("--retention", `invalid --retention (TQD_RETENTION) "${retentionText}": expected a duration of at least 1m, such as 7d or 12h`);
  }
  const stickyText = flags.stickyTimeout ?? env.TQD_STICKY_TIMEOUT ?? DEFAULT_STICKY_TIMEOUT;
  const stickyTimeoutMs = parseDuration(stickyText);
  if (stickyTimeoutMs === undefined || stickyTimeoutMs < 1 || stickyTimeoutMs > 600_000) {
    throw new ConfigError("--sticky-timeout", `invalid --sticky-timeout (TQD_STICKY_TIMEOUT) "${stickyText}": expected a duration from 1ms to 10m, such as 5s`);
  }
  const memoryBacklog = parseInteger("--memory-backlog (TQD_MEMORY_BACKLOG)", flags.memoryBacklog ?? env.TQD_MEMORY_BACKLOG ?? String(DEFAULT_MEMORY_BACKLOG), 1, 100_000_000);
  return Object.freeze({ listen, dataDir, token, maxBodyBytes, insecure, logFormat, logLevel, retentionMs, stickyTimeoutMs, memoryBacklog, warnings: Object.freeze(warnings) });
}

/** `$XDG_DATA_HOME/tqd`, else `~/.local/share/tqd`, else `./tqd-data`. */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = nonEmpty(env.XDG_DATA_HOME);
  if (xdg) return `${xdg}/tqd`;
  const home = nonEmpty(env.HOME);
  return home ? `${home}/.local/share/tqd` : "./tqd-data";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
