/**
 * A real tqd server in-process: SQLite store in a fresh temp dir, the daemon, the fetch handler
 * and Bun.serve on port 0. `await using server = await startTestServer()` disposes of all of it.
 */
import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { systemClock, type Clock } from "../../lib/clock/clock.ts";
import { TqdClient } from "../../lib/client/index.ts";
import { Daemon, type IdSource } from "../../lib/daemon/index.ts";
import { createFetchHandler, createWorkerStreamEndpoint, startHttpServer, type FetchHandler, type HttpServer } from "../../lib/http/index.ts";
import { silentLogger, type Logger } from "../../lib/log/logger.ts";
import { openSqliteStore, type TaskStore } from "../../lib/store/index.ts";
import { liveTestServers } from "./live-servers.ts";
import { tempDir, type TempDir } from "./temp-dir.ts";

export interface TestServerOptions {
  token?: string;
  clock?: Clock;
  log?: Logger;
  maxBodyBytes?: number;
  defaultStartToCloseMs?: number;
  ids?: IdSource;
  /** Wraps the store, e.g. to inject commit failures. */
  wrapStore?: (store: TaskStore) => TaskStore;
  /** Reuse a data directory (for restart tests); the caller disposes of it. */
  dataDir?: string;
  /** Serve without the worker stream, as a server older than it (its path answers 404). */
  noStream?: boolean;
  /** Characters of input pending tasks keep in memory (0: every dispatch reads it from the store). */
  pendingInputChars?: number;
  /** Live tasks kept in memory, and each line's floor; beyond, pending tasks wait in the store (lib/core/cold-tail.ts). */
  hotTasks?: number;
}

export interface TestServer extends AsyncDisposable {
  url: string;
  dataDir: string;
  daemon: Daemon;
  /** The in-process fetch handler (no socket). */
  fetch: FetchHandler;
  /** A client pointed at the socket. */
  client: TqdClient;
  /** Requests and stream frames the socket received so far (the upgrade counts as a request). */
  received(): number;
  /** Stops the server and the daemon but keeps the data directory. */
  stop(): Promise<void>;
}


export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir: TempDir | undefined = options.dataDir === undefined ? await tempDir() : undefined;
  const dataDir = options.dataDir ?? ownDir!.path;
  const opened = await openSqliteStore({ dataDir, pid: process.pid });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const log = options.log ?? silentLogger;
  const daemon = await Daemon.start({
    store,
    clock: options.clock ?? systemClock,
    log,
    defaultStartToCloseMs: options.defaultStartToCloseMs,
    pendingInputChars: options.pendingInputChars,
    ...(options.hotTasks === undefined ? {} : { hotTasks: options.hotTasks, hotTasksPerLine: options.hotTasks }),
    naming: WORKFLOW_NAMING,
    ...(options.ids ? { ids: options.ids } : {}),
  });
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  const settings = { maxBodyBytes, token: options.token, version: "test" };
  const fetch = createFetchHandler(daemon, settings, log);
  const stream = options.noStream ? undefined : createWorkerStreamEndpoint(daemon, settings, log);
  const http: HttpServer = startHttpServer({ host: "127.0.0.1", port: 0, maxBodyBytes, fetch, stream });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const closing = http.stop();
    await daemon.stop();
    http.closeStreams();
    await closing;
  };
  const server: TestServer = {
    url: http.url,
    dataDir,
    daemon,
    fetch,
    client: new TqdClient({ baseUrl: http.url, token: options.token, transportRetries: 0 }),
    received: () => http.received(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      liveTestServers.delete(server);
      await ownDir?.[Symbol.asyncDispose]();
    },
  };
  liveTestServers.add(server);
  return server;
}
