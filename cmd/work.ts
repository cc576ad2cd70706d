/**
 * `tqd work HANDLERS.ts --queue Q` or `tqd work --exec 'CMD' --type T --queue Q`: runs a worker
 * until SIGINT/SIGTERM, then stops polling, lets running handlers finish within --grace and
 * exits 0. A second signal cuts the grace period short. Opens no listening socket.
 *
 * On shutdown the worker also tells the server it left each queue (best effort, at most 1 s),
 * so `tqd describe` stops listing it at once.
 *
 * Exit codes: 0 after a shutdown signal (also when the grace period ran out: the server re-queues
 * the abandoned tasks when their leases expire, so the stop itself went as designed); 2 for bad flags or an unusable handlers module; 1 when the handlers
 * module throws while loading.
 */
import { hostname } from "node:os";
import { TqdClient } from "../lib/client/index.ts";
import { systemClock } from "../lib/clock/clock.ts";
import {
  ConfigError,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_WORK_CONCURRENCY,
  DEFAULT_WORK_GRACE,
  DEFAULT_WORKFLOW_CACHE,
  resolveWorkConfig,
  type WorkConfig,
  type WorkFlags,
} from "../lib/config/index.ts";
import { createLogger, type Logger } from "../lib/log/logger.ts";
import { createWorker, HandlerModuleError, loadWorkerModule, NON_RETRYABLE_EXIT_CODE, shellHandler, StreamingWorkerClient, type Worker, type WorkerModule } from "../lib/worker/index.ts";
import { addClientOptions } from "./client-command.ts";
import { collect, newCommand, parseArgs, usageError } from "./command-line.ts";
import { EXIT, type CliIo } from "./io.ts";

const HELP_AFTER = `
defaults: --concurrency ${DEFAULT_WORK_CONCURRENCY} (tasks at once, across all queues), --grace ${DEFAULT_WORK_GRACE},
  --identity HOSTNAME:PID, --host HOSTNAME, no --rate, --poll-wait 30s, --workflow-cache ${DEFAULT_WORKFLOW_CACHE},
  --max-sessions ${DEFAULT_MAX_SESSIONS}, --server http://127.0.0.1:7070
environment: TQD_SERVER, TQD_TOKEN, TQD_LOG_FORMAT, TQD_LOG_LEVEL

Besides each --queue Q, the worker polls Q@host:HOST (shared by every worker serving Q on this
host) and Q@worker:IDENTITY (this process only); handlers read them as ctx.hostQueue and
ctx.workerQueue and send follow-up steps there to keep them on this host or process.

--exec runs CMD with sh -c once per task: the input JSON arrives on stdin, TQD_TASK_ID,
TQD_TASK_TYPE, TQD_QUEUE, TQD_ATTEMPT, TQD_HOST_QUEUE and TQD_WORKER_QUEUE are set, stdout is
the result (JSON if it parses, else text), and a non-zero exit fails the attempt with the end
of stderr.
Exit code ${NON_RETRYABLE_EXIT_CODE} fails it without retry, whatever the task's retry policy.

A handlers module may also export workflows (export const workflows = defineWorkflows({...})):
the worker then runs their workflow tasks too, keeping up to --workflow-cache executions in
memory so the next step of a workflow continues without replaying its history. Sessions
(ctx.createSession in a workflow) are held by workers of the session's queue, up to
--max-sessions each; a held session takes no --concurrency slot, and its activities run on
the worker that holds it.

Rates are N/s, N/m or N/h. --rate limits this worker (across its queues; bursts of up to one
second of the rate): it asks for no more tasks than it may start, so the others stay pending
for other workers. --queue-rate declares a limit for the whole queue to the server, which
applies the lowest rate declared by a live worker unless 'tqd limit' set one.

examples:
  tqd work examples/hello/handlers.ts --queue hello
  tqd work handlers.ts --queue emails --queue reports --concurrency 4 --grace 2m
  tqd work --exec 'jq "{sum: (.a + .b)}"' --queue math --type add
  tqd work handlers.ts --queue emails --rate 5/s --queue-rate 50/s
  tqd work examples/fileprocessing/handlers.ts --queue files --host web-1
`;

function workCommand(io: CliIo) {
  return addClientOptions(
    newCommand("work", io)
      .description("run a worker: poll queues and run tasks with a handlers module or a shell command")
      .argument("[HANDLERS]", "TypeScript module exporting handlers (default export object or named functions)")
      .option("--queue <name>", "queue to poll, with its host and worker queues; repeat for more (required)", collect)
      .option("--exec <command>", "run this shell command per task instead of a handlers module")
      .option("--type <type>", "with --exec: a task type it handles; repeat for more", collect)
      .option("--concurrency <n>", `most tasks running at once (default ${DEFAULT_WORK_CONCURRENCY})`)
      .option("--identity <name>", "worker name the server records on leases; names the worker queues Q@worker:NAME (default HOSTNAME:PID)")
      .option("--host <name>", "host name: names the host queues Q@host:NAME, shown by tqd describe (default: this host's name)")
      .option("--rate <rate>", "most tasks this worker starts per second/minute/hour, e.g. 5/s (default: no limit)")
      .option("--queue-rate <rate>", "declare a dispatch rate for each --queue, e.g. 10/s (the server applies the lowest)")
      .option("--poll-wait <duration>", "how long the server may hold an empty poll, 100ms-60s (default 30s); a killed worker leaves tqd describe within twice this")
      .option("--grace <duration>", `on SIGTERM, how long running tasks may finish (default ${DEFAULT_WORK_GRACE})`)
      .option("--workflow-cache <n>", `workflow executions kept in memory between their tasks, 0 for none (default ${DEFAULT_WORKFLOW_CACHE})`)
      .option("--max-sessions <n>", `most workflow sessions this worker holds at once, 0 for none (default ${DEFAULT_MAX_SESSIONS})`)
      .option("--transport <kind>", "stream: polls and acknowledgements over one WebSocket (HTTP where the server has none); http: a request per call (env TQD_TRANSPORT, default stream)")
      .option("--log-format <format>", "text or json (env TQD_LOG_FORMAT, default text)")
      .option("--log-level <level>", "debug, info, warn or error (env TQD_LOG_LEVEL, default info)"),
  ).addHelpText("after", HELP_AFTER);
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const program = workCommand(io);
  const parseExit = parseArgs(program, args);
  if (parseExit !== undefined) return parseExit;
  let config: WorkConfig;
  try {
    config = resolveWorkConfig({
      handlersPath: program.args[0],
      flags: program.opts<WorkFlags>(),
      env: io.env,
      defaultIdentity: `${hostname()}:${process.pid}`,
      defaultHost: hostname() || "localhost",
    });
  } catch (error) {
    if (error instanceof ConfigError) return usageError(io, error);
    throw error;
  }
  const log = createLogger({ write: (line) => io.stderr.write(line), format: config.logFormat, level: config.logLevel });
  const loaded = await moduleFor(config, io);
  if (typeof loaded === "number") return loaded;
  // The worker retries unreachable servers itself, on its clock and with its logging.
  const http = new TqdClient({ baseUrl: config.client.serverUrl, token: config.client.token, transportRetries: 0 });
  const client = config.transport === "stream" ? new StreamingWorkerClient(http, log) : http;
  const worker = createWorker({
    client,
    clock: systemClock,
    log,
    handlers: loaded.handlers,
    workflows: loaded.workflows,
    workflowCacheSize: config.workflowCacheSize,
    maxSessions: config.maxSessions,
    queues: config.queues,
    concurrency: config.concurrency,
    identity: config.identity,
    host: config.host,
    queueRate: config.queueRate,
    ratePerSecond: config.ratePerSecond,
    pollWaitMs: config.pollWaitMs,
    graceMs: config.graceMs,
  });
  const stopped = stopOnSignals(io, worker, log);
  await worker.start();
  await stopped;
  if (client instanceof StreamingWorkerClient) client.close();
  return EXIT.ok;
}

async function moduleFor(config: WorkConfig, io: CliIo): Promise<WorkerModule | number> {
  const { source } = config;
  if (source.kind === "exec") {
    const handler = shellHandler({ command: source.command, env: io.env, cwd: io.cwd, clock: systemClock });
    return { handlers: Object.fromEntries(source.types.map((type) => [type, handler])), workflows: {} };
  }
  try {
    return await loadWorkerModule(source.path, io.cwd);
  } catch (error) {
    if (!(error instanceof HandlerModuleError)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return error.problem === "import" ? EXIT.failure : EXIT.usage;
  }
}

/** Resolves when the worker has stopped after the first signal; a second one skips the grace. */
function stopOnSignals(io: CliIo, worker: Worker, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let signals = 0;
    const unsubscribe = io.onShutdownSignal((signal) => {
      signals += 1;
      if (signals === 1) {
        log.info("shutdown signal received; finishing running tasks", { signal });
        void worker.stop().then(() => {
          unsubscribe();
          resolve();
        });
      } else {
        log.warn("second shutdown signal; abandoning running tasks now", { signal });
        void worker.stop({ graceMs: 0 });
      }
    });
  });
}
