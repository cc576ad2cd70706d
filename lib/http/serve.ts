/**
 * The Bun adapter: the only file that calls Bun.serve. The idle timeout is longer than the
 * longest long-poll (60 s) so Bun never cuts a parked poll.
 */
import type { FetchHandler } from "./create-fetch-handler.ts";
import { errorResponse } from "./errors.ts";

/** Seconds a connection may be silent; must exceed the longest long-poll. */
const IDLE_TIMEOUT_S = 120;

export interface HttpServer {
  /** The bound URL, with the real port when 0 was asked for. */
  url: string;
  port: number;
  /** Stops accepting connections; in-flight requests finish. */
  stop(): Promise<void>;
}

export function startHttpServer(options: { host: string; port: number; maxBodyBytes: number; fetch: FetchHandler }): HttpServer {
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    idleTimeout: IDLE_TIMEOUT_S,
    // Our own check answers oversized bodies with JSON; Bun's limit only backs it up.
    maxRequestBodySize: options.maxBodyBytes * 2 + 65_536,
    fetch: options.fetch,
    error: () => errorResponse("internal", "internal error; see the server log"),
  });
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port ?? options.port,
    stop: () => server.stop(false),
  };
}
