/**
 * The Bun adapter: the only file that calls Bun.serve. The idle timeout is longer than the
 * longest long-poll (60 s) so Bun never cuts a parked poll. `GET /v1/worker/stream` upgrades to
 * the worker stream (see worker-stream.ts); every other request goes to the fetch handler.
 */
import { WORKER_STREAM_PATH } from "../protocol/index.ts";
import type { FetchHandler } from "./create-fetch-handler.ts";
import { errorResponse } from "./errors.ts";
import type { WorkerStreamEndpoint, WorkerStreamSession } from "./worker-stream.ts";

/** Seconds a connection may be silent; must exceed the longest long-poll. */
const IDLE_TIMEOUT_S = 120;

export interface HttpServer {
  /** The bound URL, with the real port when 0 was asked for. */
  url: string;
  port: number;
  /** Stops accepting connections; resolves once in-flight requests finished and streams closed. */
  stop(): Promise<void>;
  /**
   * Closes every worker stream (1001, going away). Call it after the daemon stopped, so the
   * answers it gave to calls in flight (polls answered empty, settles committed) go out first.
   */
  closeStreams(): void;
  /** Requests and stream frames received so far (a measure of activity, not a metric). */
  received(): number;
}

interface SocketData {
  session?: WorkerStreamSession;
}

export function startHttpServer(options: { host: string; port: number; maxBodyBytes: number; fetch: FetchHandler; stream?: WorkerStreamEndpoint | undefined }): HttpServer {
  const { stream } = options;
  const sockets = new Set<{ close(code: number, reason: string): void }>();
  let received = 0;
  const server = Bun.serve<SocketData>({
    hostname: options.host,
    port: options.port,
    idleTimeout: IDLE_TIMEOUT_S,
    // No limit of Bun's: it would answer a declared length over it with an empty 413. Our own
    // check answers every oversized body with JSON (request-body.ts), and counts the bytes of a
    // body sent in chunks as they come, so none is buffered past --max-body.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch(request, bun) {
      received++;
      // Without a stream endpoint the path is unknown to the fetch handler: 404, as on older servers.
      if (!stream || !isStreamPath(request.url)) return options.fetch(request);
      if (request.method !== "GET") return errorResponse("method_not_allowed", `${request.method} is not allowed on ${WORKER_STREAM_PATH}`);
      const refused = stream.refuse(request);
      if (refused) return refused;
      if (bun.upgrade(request, { data: {} })) return undefined;
      return errorResponse("invalid_argument", `${WORKER_STREAM_PATH} takes a WebSocket upgrade`);
    },
    websocket: {
      // The session answers a frame over --max-body plus its envelope with a 413 for its ref
      // (see worker-stream.ts); Bun's limit only backs that up, as maxRequestBodySize does.
      maxPayloadLength: options.maxBodyBytes * 2 + 65_536,
      idleTimeout: IDLE_TIMEOUT_S,
      // Only reached through an upgrade, which needs `stream`.
      open(ws) {
        sockets.add(ws);
        ws.data.session = stream!.open({ send: (text) => ws.send(text) !== 0, close: (code, reason) => ws.close(code, reason) });
      },
      message(ws, message) {
        received++;
        ws.data.session?.receive(typeof message === "string" ? message : message.toString("utf8"));
      },
      close(ws) {
        sockets.delete(ws);
        ws.data.session?.closedByPeer();
      },
    },
    error: () => errorResponse("internal", "internal error; see the server log"),
  });
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port ?? options.port,
    stop: () => server.stop(false),
    closeStreams: () => {
      for (const ws of sockets) ws.close(1001, "server shutting down");
    },
    received: () => received,
  };
}

/** Whether an absolute request URL's path is the stream's (without parsing the URL). */
function isStreamPath(url: string): boolean {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  return url.startsWith(WORKER_STREAM_PATH, pathStart) && (url.length === pathStart + WORKER_STREAM_PATH.length || url[pathStart + WORKER_STREAM_PATH.length] === "?");
}
