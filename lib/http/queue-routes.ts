/** Queue listing and health checks. */
import { errorResponse } from "./errors.ts";
import { json, type RouteContext } from "./route-context.ts";

export const queueRoutes = {
  list(context: RouteContext): Response {
    const queues = context.daemon.queueCounts().map(({ timed_out, ...counts }) => ({ ...counts, timedOut: timed_out }));
    return json({ queues });
  },
  /** The process is up and serving HTTP. */
  livez(context: RouteContext): Response {
    return json({ status: "ok", version: context.settings.version });
  },
  /** The store is loaded and the daemon accepts work (503 while shutting down). */
  readyz(context: RouteContext): Response {
    if (!context.daemon.accepting) return errorResponse("unavailable", "the server is shutting down");
    return json({ status: "ready", version: context.settings.version });
  },
};
