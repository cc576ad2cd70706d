/** What every route handler receives, and how it answers. */
import type { Daemon } from "../daemon/index.ts";

export interface HttpSettings {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Bearer token required on every route but the health checks; undefined = open. */
  token: string | undefined;
  /** Reported by /livez and /readyz. */
  version: string;
  /** Process memory for /metrics; the binary wires the runtime's numbers in. */
  processStats?: () => { rssBytes: number; heapUsedBytes: number };
  /** Worker streams open, for /metrics (see worker-stream.ts). */
  workerStreams?: () => number;
}

export interface RouteContext {
  request: Request;
  /** Path parameters, already percent-decoded. */
  params: Record<string, string>;
  daemon: Daemon;
  settings: HttpSettings;
}

export type RouteHandler = (context: RouteContext) => Promise<Response> | Response;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** An answer whose body is already JSON text. */
export function rawJson(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "content-type": "application/json" } });
}
