/**
 * The fetch handler: route, authenticate, run the handler, and turn every failure into a JSON
 * error. Runtime-neutral (web Request/Response only), so tests call it in-process.
 */
import type { Daemon } from "../daemon/index.ts";
import type { Logger } from "../log/logger.ts";
import { hasValidToken } from "./auth.ts";
import { errorResponse, responseOfKnownError } from "./errors.ts";
import type { HttpSettings } from "./route-context.ts";
import { ROUTES, type Route } from "./routes.ts";

export type FetchHandler = (request: Request) => Promise<Response>;

export function createFetchHandler(daemon: Daemon, settings: HttpSettings, log: Logger): FetchHandler {
  let requestCounter = 0;
  return async (request) => {
    const requestId = ++requestCounter;
    let path: string;
    try {
      path = new URL(request.url).pathname;
    } catch {
      return errorResponse("invalid_argument", "malformed request URL");
    }
    const match = matchRoute(request.method, path);
    if (match === "no_route") return errorResponse("not_found", `no route for ${request.method} ${path}`);
    if (match === "wrong_method") return errorResponse("method_not_allowed", `${request.method} is not allowed on ${path}`);
    if (match === "bad_encoding") return errorResponse("invalid_argument", "malformed percent-encoding in the path");
    if (settings.token !== undefined && !match.route.public && !hasValidToken(request, settings.token)) {
      return errorResponse("unauthorized", "missing or invalid bearer token", { "www-authenticate": "Bearer" });
    }
    try {
      return await match.route.handler({ request, params: match.params, daemon, settings });
    } catch (error) {
      const known = responseOfKnownError(error);
      if (known) return known;
      log.error("request failed", { requestId, method: request.method, path, error: String(error) });
      return errorResponse("internal", `internal error (request ${requestId}); see the server log`);
    }
  };
}

type RouteMatch = { route: Route; params: Record<string, string> } | "no_route" | "wrong_method" | "bad_encoding";

function matchRoute(method: string, path: string): RouteMatch {
  let pathMatched = false;
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    try {
      for (let i = 0; i < route.params.length; i++) params[route.params[i]!] = decodeURIComponent(found[i + 1] ?? "");
    } catch {
      return "bad_encoding";
    }
    return { route, params };
  }
  return pathMatched ? "wrong_method" : "no_route";
}
