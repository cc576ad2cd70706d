/** Queue listing, administration, describe, and the health checks. */
import {
  emptyRequestSchema,
  fairnessRequestSchema,
  leaveRequestSchema,
  limitRequestSchema,
  queueListQuerySchema,
} from "../protocol/index.ts";
import type { QueueDescription, QueueListing } from "../daemon/index.ts";
import { errorResponse, invalidRequest } from "./errors.ts";
import { readJsonBody, readOptionalJsonBody } from "./request-body.ts";
import { queueParam } from "./path-params.ts";
import { json, type RouteContext } from "./route-context.ts";

export const queueRoutes = {
  list(context: RouteContext): Response {
    const query = queueListQuerySchema.safeParse(Object.fromEntries(new URL(context.request.url).searchParams));
    if (!query.success) throw invalidRequest(query.error);
    return json({ queues: context.daemon.queues.list(query.data.prefix ?? "").map(listingView) });
  },

  describe(context: RouteContext): Response {
    const queue = queueParam(context);
    const routes = context.daemon.router.table(queue);
    const view = describeView(context.daemon.queues.describe(queue));
    if (routes.version === 0) return json(view);
    return json({ ...view, routes: { version: routes.version, rules: routes.rules.map(({ id, to, stats }) => ({ id, to, stats })) } });
  },

  async limit(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, limitRequestSchema, context.settings.maxBodyBytes);
    const limit = await context.daemon.queues.setLimit(queue, "clear" in body ? undefined : { ratePerSecond: body.rate, burst: body.burst });
    return json({ queue, limit: limit ?? null });
  },

  async pause(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    await readOptionalJsonBody(context, emptyRequestSchema);
    await context.daemon.queues.setPaused(queue, true);
    return json({ queue, paused: true });
  },

  async resume(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    await readOptionalJsonBody(context, emptyRequestSchema);
    await context.daemon.queues.setPaused(queue, false);
    return json({ queue, paused: false });
  },

  async fairness(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, fairnessRequestSchema, context.settings.maxBodyBytes);
    const setting = await context.daemon.queues.setFairness(queue, body.key, body.weight, body.rate);
    const pending = context.daemon.queues.describe(queue).fairness.find((entry) => entry.key === body.key)?.pending ?? 0;
    return json({ queue, key: { key: body.key, weight: setting.weight, ...(setting.ratePerSecond === undefined ? {} : { ratePerSecond: setting.ratePerSecond }), pending } });
  },

  async leave(context: RouteContext): Promise<Response> {
    const queue = queueParam(context);
    const body = await readJsonBody(context.request, leaveRequestSchema, context.settings.maxBodyBytes);
    return json({ queue, identity: body.identity, left: context.daemon.leave(queue, body.identity) });
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

function listingView({ timed_out, ...counts }: QueueListing) {
  return { ...counts, timedOut: timed_out };
}

function describeView(d: QueueDescription) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const { timed_out, ...counts } = d.counts;
  const limitView = (limit: { ratePerSecond: number; burst: number } | undefined) => (limit ? { ratePerSecond: limit.ratePerSecond, burst: limit.burst } : null);
  return {
    name: d.name,
    paused: d.paused,
    counts: { ...counts, timedOut: timed_out },
    backlog: { pending: d.counts.pending, ...(d.oldestPendingAgeMs === undefined ? {} : { oldestPendingAgeMs: d.oldestPendingAgeMs }), inStore: d.pendingInStore },
    lastMinute: d.lastMinute,
    rateLimit: {
      effective: limitView(d.limit.limit),
      source: d.limit.source,
      ...(d.limit.declaredBy === undefined ? {} : { declaredBy: d.limit.declaredBy }),
      admin: limitView(d.adminLimit),
    },
    pollers: d.pollers.map((p) => ({
      identity: p.identity,
      ...(p.host === undefined ? {} : { host: p.host }),
      types: [...p.types],
      freeSlots: p.freeSlots,
      lastSeen: iso(p.lastSeen),
      waiting: p.parked > 0,
      ...(p.declaredRate === undefined ? {} : { declaredRatePerSecond: p.declaredRate }),
    })),
    pollerTypesDiffer: d.pollerTypesDiffer,
    typesWithoutPoller: d.typesWithoutPoller,
    fairness: d.fairness.map((f) => ({ key: f.key, weight: f.weight, ...(f.ratePerSecond === undefined ? {} : { ratePerSecond: f.ratePerSecond }), pending: f.pending })),
  };
}

