/** Handlers of the traffic-routing routes of a queue. */
import {
  parseDuration,
  routeAddRequestSchema,
  routeRemoveRequestSchema,
  routeRollbackRequestSchema,
  routeTestRequestSchema,
} from "../protocol/index.ts";
import type { RouteTableView } from "../daemon/index.ts";
import { readJsonBody, readOptionalJsonBody } from "./request-body.ts";
import { queueParam } from "./path-params.ts";
import { json, type RouteContext } from "./route-context.ts";

export const routingRoutes = {
  list(context: RouteContext): Response {
    return json(tableView(context.daemon.router.table(queueParam(context))));
  },

  async add(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, routeAddRequestSchema, context.settings.maxBodyBytes);
    const { rule } = body;
    const table = await context.daemon.router.add(
      queue,
      { to: rule.to, type: rule.type, headers: rule.headers, percent: rule.percent, by: rule.by, fallbackAfterMs: fallbackMs(rule.fallbackAfter) },
      { expectedVersion: body.expectedVersion, force: body.force },
    );
    return json(tableView(table), 201);
  },

  async remove(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readOptionalJsonBody(context, routeRemoveRequestSchema);
    return json(tableView(await context.daemon.router.remove(queue, context.params.rule ?? "", body.expectedVersion)));
  },

  async rollback(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, routeRollbackRequestSchema, context.settings.maxBodyBytes);
    return json(tableView(await context.daemon.router.rollback(queue, body.version, { expectedVersion: body.expectedVersion, force: body.force })));
  },

  async test(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, routeTestRequestSchema, context.settings.maxBodyBytes);
    // Without an id the percentage is drawn for an arbitrary one, as a fresh task's would be.
    const rule = context.daemon.router.test(queue, { id: body.id ?? `test-${crypto.randomUUID()}`, type: body.type, headers: body.headers });
    return json(rule ? { queue: rule.to, ruleId: rule.id, fallbackAfterMs: rule.fallbackAfterMs } : { queue });
  },

  history(context: RouteContext): Response {
    const queue = queueParam(context);
    const versions = context.daemon.router.history(queue).map((v) => ({
      version: v.version,
      createdAt: new Date(v.createdAt).toISOString(),
      change: v.change,
      rules: v.rules.map(ruleView),
    }));
    return json({ queue, versions });
  },
};

function fallbackMs(text: number | "0s" | "0" | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text === "number") return text;
  return parseDuration(text) ?? 0;
}

function ruleView(rule: RouteTableView["rules"][number] | Omit<RouteTableView["rules"][number], "stats">) {
  return {
    id: rule.id,
    to: rule.to,
    ...(rule.type === undefined ? {} : { type: rule.type }),
    ...(rule.headers === undefined ? {} : { headers: rule.headers }),
    percent: rule.percent,
    ...(rule.by === undefined ? {} : { by: rule.by }),
    fallbackAfterMs: rule.fallbackAfterMs,
    ...("stats" in rule ? { stats: rule.stats } : {}),
  };
}

function tableView(table: RouteTableView) {
  return { queue: table.queue, version: table.version, rules: table.rules.map(ruleView) };
}

