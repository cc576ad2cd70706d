/**
 * `tqd serve`: resolve config, open the store, rebuild the daemon, then listen. On SIGTERM or
 * SIGINT: stop accepting, answer parked polls empty, commit what is staged, close, exit 0.
 */
import { WORKFLOW_NAMING } from "../lib/protocol/index.ts";
import { systemClock } from "../lib/clock/clock.ts";
import { whenQuiet } from "../lib/clock/when-quiet.ts";
import { ConfigError, resolveServeConfig, type ServeConfig } from "../lib/config/index.ts";
import { Daemon } from "../lib/daemon/index.ts";
import { createFetchHandler, createWorkerStreamEndpoint, startHttpServer } from "../lib/http/index.ts";
import { createLogger, type Logger } from "../lib/log/logger.ts";
import { reusedReading } from "../lib/metrics/reused-reading.ts";
import { DataDirLockedError, openSqliteStore } from "../lib/store/index.ts";
import { missingAllocatorSettings } from "./allocator-settings.ts";
import { newCommand, parseArgs, usageError } from "./command-line.ts";
import { EXIT, type CliIo } from "./io.ts";
import { buildVersion, versionLine } from "./version-info.ts";


export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const program = newCommand("serve", io)
    .description("Run the tqd daemon: HTTP API on --listen, SQLite store in --data.")
    .option("--listen <host:port>", "address to listen on (env TQD_LISTEN, default 127.0.0.1:7070)")
    .option("--data <dir>", "data directory (env TQD_DATA, default ~/.local/share/tqd)")
    .option("--token <token>", "require 'Authorization: Bearer TOKEN' (env TQD_TOKEN)")
    .option("--max-body <bytes>", "largest request body (default 1MiB)")
    .option("--insecure", "allow a non-loopback --listen without a token")
    .option("--log-format <format>", "text or json (env TQD_LOG_FORMAT)")
    .option("--log-level <level>", "debug, info, warn or error (env TQD_LOG_LEVEL)")
    .option("--retention <duration>", "keep final tasks this long, then delete them (env TQD_RETENTION, default 7d)")
    .option("--sticky-timeout <duration>", "how long a workflow task waits for the worker that ran the previous one before any worker may take it (env TQD_STICKY_TIMEOUT, default 5s)")
    .option("--memory-backlog <tasks>", "live tasks kept in memory; beyond, new pending tasks wait in the store (each ready line of a queue still keeps 1024) and are read in as their line drains (env TQD_MEMORY_BACKLOG, default 20000)");
  const parsed = parseArgs(program, args);
  if (parsed !== undefined) return parsed;
  let config: ServeConfig;
  try {
    config = resolveServeConfig({ flags: program.opts(), env: io.env });
  } catch (error) {
    if (error instanceof ConfigError) return usageError(io, error);
    throw error;
  }
  const log = createLogger({ write: (line) => io.stderr.write(line), format: config.logFormat, level: config.logLevel });
  for (const warning of config.warnings) log.warn(warning);
  return serve(config, log, io);
}

async function serve(config: ServeConfig, log: Logger, io: CliIo): Promise<number> {
  const startedAt = performance.now();
  let daemon: Daemon;
  try {
    const store = await openSqliteStore({
      dataDir: config.dataDir,
      pid: process.pid,
      onStagedFailure: (error, opCount) => log.warn("staged writes not committed", { opCount, error: String(error) }),
    });
    daemon = await Daemon.start({ store, clock: systemClock, log, retention: { retentionMs: config.retentionMs }, collectGarbage: () => Bun.gc(true), naming: WORKFLOW_NAMING, stickyTimeoutMs: config.stickyTimeoutMs, hotTasks: config.memoryBacklog });
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`error: cannot open the store in ${config.dataDir}: ${String(error)}\n`);
    return EXIT.failure;
  }
  const settings = {
    maxBodyBytes: config.maxBodyBytes,
    token: config.token,
    version: buildVersion(),
    // Read at most once a second: with garbage since the last read, process.memoryUsage()
    // walks the JavaScript heap (about 1 ms; its RSS alone costs as much), and a client that
    // reads /metrics often (a dashboard, the bench waiting for a drain's end) paid that on
    // every read: 2.8 % of the daemon's CPU samples in a drain of 60,000 tasks.
    processStats: reusedReading(1_000, systemClock.now, () => {
      const usage = process.memoryUsage();
      return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
    }),
  };
  let server;
  try {
    server = startHttpServer({ ...config.listen, maxBodyBytes: config.maxBodyBytes, fetch: createFetchHandler(daemon, settings, log), stream: createWorkerStreamEndpoint(daemon, settings, log) });
  } catch (error) {
    await daemon.stop();
    io.stderr.write(`error: cannot listen on ${config.listen.host}:${config.listen.port}: ${String(error)}\n`);
    return EXIT.failure;
  }
  log.info("tqd serving", { url: server.url, data: config.dataDir, version: versionLine(), readyMs: Math.round(performance.now() - startedAt) });
  const allocatorDefaults = Object.keys(missingAllocatorSettings(io.env));
  if (allocatorDefaults.length > 0) log.debug("allocator settings not applied: the allocator's defaults stay", { missing: allocatorDefaults.join(" ") });
  const stopWatching = new AbortController();
  void whenQuiet(systemClock, { activity: () => server.received(), windowMs: STARTUP_RELEASE_QUIET_MS, giveUpAfterMs: STARTUP_RELEASE_GIVE_UP_MS, signal: stopWatching.signal }).then((quiet) => {
    if (quiet) releaseStartupMemory(log);
  });
  const signal = await new Promise<string>((resolve) => {
    const off = io.onShutdownSignal((name) => {
      off();
      resolve(name);
    });
  });
  log.info("shutting down", { signal });
  stopWatching.abort();
  const closing = server.stop();
  await daemon.stop();
  server.closeStreams();
  await closing;
  log.info("stopped");
  return EXIT.ok;
}

/**
 * The release waits for this long without a request or stream frame. Done at a fixed 50 ms
 * after ready, its full collection (10-15 ms here) landed in the middle of a producer's first
 * batches: the second and third batch of 1,000 took 41-47 and 28 ms instead of 21-26 and 13.
 */
const STARTUP_RELEASE_QUIET_MS = 100;
/** A daemon busy from the start never has the moment; its own collections take the garbage. */
const STARTUP_RELEASE_GIVE_UP_MS = 60_000;

/**
 * Once, at the first quiet moment after ready: collect what starting left behind (module
 * setup, migrations, the boot's rows) and hand the freed memory back to the system. An idle
 * daemon then holds 54-55 MiB instead of 57-58 (one second after ready, 5 starts, 2 runs
 * each); a collection alone gave 57. `Bun.shrink` is deprecated but still the runtime's only
 * way to ask JavaScriptCore to release unused memory now rather than at some later idle
 * moment, so it is used if present.
 */
function releaseStartupMemory(log: Logger): void {
  const started = performance.now();
  Bun.gc(true);
  const runtime = Bun as { shrink?: () => void };
  runtime.shrink?.();
  log.debug("released startup memory", { ms: Math.round(performance.now() - started) });
}
