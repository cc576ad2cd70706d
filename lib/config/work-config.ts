/**
 * Settings of `tqd work`, resolved from flags, environment and the process's defaults (given as
 * arguments, so this stays pure). Validates everything once; each error names its flag.
 */
import { resolveClientConfig, type ClientConfig } from "./client-config.ts";
import { ConfigError } from "./config-error.ts";
import { baseQueueOf, DEFAULT_POLL_WAIT_MS, LIMITS, QUEUE_NAME_PATTERN, parseDuration, parseRate, WORKFLOW_DEFAULTS } from "../protocol/index.ts";
import { parseChoice, parseInteger } from "./parse-values.ts";
import type { LogFormat, LogLevel } from "./serve-config.ts";

export const DEFAULT_WORK_CONCURRENCY = 10;
export const DEFAULT_WORK_GRACE = "30s";
/** The server's poll limit (LIMITS.pollMax in lib/protocol); a larger pool could never fill. */
export const MAX_WORK_CONCURRENCY = 1000;
/** `--poll-wait` bounds: below this, empty polls would hammer the server; above, it refuses them. */
export const MIN_POLL_WAIT_MS = 100;
/** `--workflow-cache`: executions kept for sticky execution. */
export const DEFAULT_WORKFLOW_CACHE = 500;
export const MAX_WORKFLOW_CACHE = 100_000;
/** `--max-sessions`: at most the server's poll limit, since one poll may fill every free session slot. */
export const DEFAULT_MAX_SESSIONS = WORKFLOW_DEFAULTS.maxSessionsPerWorker;
export const MAX_MAX_SESSIONS = LIMITS.pollMax;

export interface WorkFlags {
  queue?: string[] | undefined;
  type?: string[] | undefined;
  exec?: string | undefined;
  concurrency?: string | undefined;
  identity?: string | undefined;
  host?: string | undefined;
  queueRate?: string | undefined;
  rate?: string | undefined;
  pollWait?: string | undefined;
  grace?: string | undefined;
  workflowCache?: string | undefined;
  maxSessions?: string | undefined;
  transport?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  logFormat?: string | undefined;
  logLevel?: string | undefined;
}

export interface WorkConfigInput {
  /** The positional HANDLERS.ts argument, if given. */
  handlersPath: string | undefined;
  flags: WorkFlags;
  env: Readonly<Record<string, string | undefined>>;
  /** `${hostname}:${pid}` of the running process, used when --identity is absent. */
  defaultIdentity: string;
  /** The machine's host name, used when --host is absent. */
  defaultHost: string;
}

export const WORK_TRANSPORTS = ["stream", "http"] as const;
export type WorkTransport = (typeof WORK_TRANSPORTS)[number];

/** Where the handlers come from: a TypeScript module, or a shell command for the listed types. */
export type WorkSource = { kind: "module"; path: string } | { kind: "exec"; command: string; types: readonly string[] };

export interface WorkConfig {
  readonly source: WorkSource;
  readonly queues: readonly string[];
  readonly concurrency: number;
  /** Holder of leases; names the worker queues (`Q@worker:IDENTITY`). */
  readonly identity: string;
  /** Names the host queues (`Q@host:HOST`) and is sent with every poll; `tqd describe` shows it. */
  readonly host: string;
  /** `--queue-rate` as given (e.g. `10/s`), declared to the server on every poll. */
  readonly queueRate: string | undefined;
  /** `--rate`: the worker-local limit in tasks per second; undefined means none. */
  readonly ratePerSecond: number | undefined;
  /**
   * How long the server may hold an empty poll, in ms. It also bounds how long a killed worker
   * stays listed by `tqd describe` (two of these).
   */
  readonly pollWaitMs: number;
  readonly graceMs: number;
  /** `--workflow-cache`: most workflow executions kept between workflow tasks; 0 keeps none. */
  readonly workflowCacheSize: number;
  /** `--max-sessions`: most sessions held at once; 0 holds none. */
  readonly maxSessions: number;
  /**
   * `--transport`: `stream` sends polls and acknowledgements over the worker stream (one
   * WebSocket, falling back to HTTP where the server does not offer it); `http` uses one HTTP
   * request per call.
   */
  readonly transport: WorkTransport;
  readonly client: ClientConfig;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
}

/** Resolves and validates work settings; throws ConfigError naming the flag at fault. */
export function resolveWorkConfig({ handlersPath, flags, env, defaultIdentity, defaultHost }: WorkConfigInput): WorkConfig {
  const source = resolveSource(handlersPath, flags);
  const queues = uniqueNames("--queue", flags.queue ?? []);
  if (queues.length === 0) throw new ConfigError("--queue", "missing --queue: name at least one queue to poll (repeat the flag for more)");
  for (const queue of queues) {
    if (baseQueueOf(queue) !== queue) {
      throw new ConfigError("--queue", `invalid --queue "${queue}": name the base queue ("${baseQueueOf(queue)}"); the worker polls its host and worker queues itself`);
    }
  }
  const concurrency = parseInteger("--concurrency", flags.concurrency ?? String(DEFAULT_WORK_CONCURRENCY), 1, MAX_WORK_CONCURRENCY);
  const identity = flags.identity ?? defaultIdentity;
  if (identity.length < 1 || identity.length > 255) {
    throw new ConfigError("--identity", `invalid --identity "${identity}": expected 1-255 characters`);
  }
  const host = flags.host ?? defaultHost;
  if (host.trim().length < 1 || host.length > 255) throw new ConfigError("--host", `invalid --host "${host}": expected 1-255 characters`);
  const queueRate = flags.queueRate === undefined ? undefined : (parseRateFlag("--queue-rate", flags.queueRate), flags.queueRate.trim());
  const ratePerSecond = flags.rate === undefined ? undefined : parseRateFlag("--rate", flags.rate);
  const pollWaitMs = flags.pollWait === undefined ? DEFAULT_POLL_WAIT_MS : parsePollWaitMs(flags.pollWait);
  const graceMs = parseGraceMs(flags.grace ?? DEFAULT_WORK_GRACE);
  const workflowCacheSize = parseInteger("--workflow-cache", flags.workflowCache ?? String(DEFAULT_WORKFLOW_CACHE), 0, MAX_WORKFLOW_CACHE);
  const maxSessions = parseInteger("--max-sessions", flags.maxSessions ?? String(DEFAULT_MAX_SESSIONS), 0, MAX_MAX_SESSIONS);
  const transport = parseChoice("--transport", flags.transport ?? env.TQD_TRANSPORT ?? "stream", WORK_TRANSPORTS);
  const client = resolveClientConfig({ flags, env });
  const logFormat = parseChoice("--log-format", flags.logFormat ?? env.TQD_LOG_FORMAT ?? "text", ["text", "json"] as const);
  const logLevel = parseChoice("--log-level", flags.logLevel ?? env.TQD_LOG_LEVEL ?? "info", ["debug", "info", "warn", "error"] as const);
  return Object.freeze({ source, queues, concurrency, identity, host, queueRate, ratePerSecond, pollWaitMs, graceMs, workflowCacheSize, maxSessions, transport, client, logFormat, logLevel });
}

// Exactly one of HANDLERS.ts and --exec; --type goes with --exec only.
function resolveSource(handlersPath: string | undefined, flags: WorkFlags): WorkSource {
  const types = flags.type ?? [];
  if (flags.exec !== undefined) {
    if (handlersPath !== undefined) {
      throw new ConfigError("--exec", `give either a handlers module ("${handlersPath}") or --exec, not both`);
    }
    if (flags.exec.trim() === "") throw new ConfigError("--exec", "invalid --exec: the command is empty");
    if (types.length === 0) throw new ConfigError("--type", "missing --type: --exec needs the task types it handles (repeat the flag for more)");
    return Object.freeze({ kind: "exec", command: flags.exec, types: uniqueNames("--type", types) });
  }
  if (types.length > 0) throw new ConfigError("--type", "--type is only allowed with --exec (a handlers module names its types by its exports)");
  if (handlersPath === undefined || handlersPath.trim() === "") {
    throw new ConfigError("HANDLERS", "missing handlers: give a handlers module (tqd work HANDLERS.ts --queue Q) or --exec 'CMD' --type T");
  }
  return Object.freeze({ kind: "module", path: handlersPath });
}

function uniqueNames(flag: string, names: readonly string[]): readonly string[] {
  for (const name of names) {
    if (!QUEUE_NAME_PATTERN.test(name)) {
      throw new ConfigError(flag, `invalid ${flag} "${name}": expected 1-255 characters of A-Z a-z 0-9 . _ - : @ /`);
    }
  }
  return Object.freeze([...new Set(names)]);
}

/** `--grace`: a duration such as 500ms, 30s, 5m; 0 (or 0s) means do not wait. */
export function parseGraceMs(text: string): number {
  const ms = text.trim() === "0" ? 0 : (parseDuration(text) ?? NaN);
  if (!Number.isSafeInteger(ms) || ms > 86_400_000) {
    throw new ConfigError("--grace", `invalid --grace "${text}": expected a duration such as 500ms, 30s or 5m (at most 1d)`);
  }
  return ms;
}

/** `--poll-wait`: a duration from 100ms to the server's limit of 60s. */
export function parsePollWaitMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_POLL_WAIT_MS || ms > LIMITS.pollWaitMs) {
    throw new ConfigError("--poll-wait", `invalid --poll-wait "${text}": expected a duration from ${MIN_POLL_WAIT_MS}ms to ${LIMITS.pollWaitMs / 1000}s, such as 30s`);
  }
  return ms;
}

/** `--rate` and `--queue-rate`: a rate such as 5/s, 300/m or 10/h, as tasks per second. */
export function parseRateFlag(flag: string, text: string): number {
  const perSecond = parseRate(text);
  if (perSecond === undefined) throw new ConfigError(flag, `invalid ${flag} "${text}": expected a rate such as 5/s, 300/m or 10/h`);
  return perSecond;
}
