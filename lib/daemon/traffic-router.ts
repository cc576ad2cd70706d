/**
 * Traffic routing: each queue's ordered rules, their versions (every change is a new version,
 * persisted before it takes effect; edits name the version they were based on, and a stale one
 * is a 409), the guards (no target without a live poller unless forced, no cycles), and per-rule
 * stats (routed, started, fell back, stranded).
 */
import type { Clock } from "../clock/clock.ts";
import { ConflictError, createsCycle, InvalidArgumentError, matchRoute, NotFoundError, type DispatchCore, type RoutableTask, type RouteRule } from "../core/index.ts";
import type { RouteVersion, StoreOp, TaskStore } from "../store/index.ts";
import { AdminLock } from "./admin-lock.ts";

/** A target counts as served if some worker polled it within this. */
export const LIVE_TARGET_MS = 60_000;
export const DEFAULT_FALLBACK_MS = 30_000;

export interface RuleStats {
  routed: number;
  started: number;
  fellBack: number;
  stranded: number;
}

export interface RouteTableView {
  queue: string;
  version: number;
  rules: (RouteRule & { stats: RuleStats })[];
}

export interface NewRule {
  to: string;
  type?: string | undefined;
  headers?: Record<string, string> | undefined;
  percent?: number | undefined;
  by?: string | undefined;
  fallbackAfterMs?: number | undefined;
}

export interface TrafficRouterDeps {
  core: DispatchCore;
  store: TaskStore;
  clock: Clock;
  /** Epoch ms of the last poll of a queue, if known. */
  lastPolled(queue: string): number | undefined;
  commit(operation: string, ops: StoreOp[]): Promise<void>;
}

export class TrafficRouter {
  private readonly tables = new Map<string, { version: number; rules: RouteRule[] }>();
  private readonly stats = new Map<string, Omit<RuleStats, "stranded">>();
  private readonly lock = new AdminLock();

  constructor(private readonly deps: TrafficRouterDeps) {}

  restore(versions: readonly RouteVersion[]): void {
    for (const v of versions) this.tables.set(v.queue, { version: v.version, rules: v.rules });
  }

  /** The rule that routes a task enqueued to `queue`, if any. */
  route(queue: string, task: RoutableTask): RouteRule | undefined {
    const table = this.tables.get(queue);
    if (!table || table.rules.length === 0) return undefined;
    const rule = matchRoute(table.rules, task);
    if (rule) this.statsOf(queue, rule.id).routed++;
    return rule;
  }

  /** Dry run of `route`, without counting. */
  test(queue: string, task: RoutableTask): RouteRule | undefined {
    const table = this.tables.get(queue);
    return table ? matchRoute(table.rules, task) : undefined;
  }

  noteStarted(source: string, ruleId: string): void {
    this.statsOf(source, ruleId).started++;
  }

  noteFellBack(source: string, ruleId: string): void {
    this.statsOf(source, ruleId).fellBack++;
  }

  table(queue: string): RouteTableView {
    const table = this.tables.get(queue) ?? { version: 0, rules: [] };
    const stranded = new Map<string, number>();
    for (const task of this.deps.core.liveTasks()) {
      if (task.routedFrom !== queue || task.routeRuleId === undefined || task.attempt > 0 || task.queue === queue) continue;
      stranded.set(task.routeRuleId, (stranded.get(task.routeRuleId) ?? 0) + 1);
    }
    return {
      queue,
      version: table.version,
      rules: table.rules.map((rule) => ({ ...rule, stats: { ...this.statsOf(queue, rule.id), stranded: stranded.get(rule.id) ?? 0 } })),
    };
  }

  history(queue: string): RouteVersion[] {
    return this.deps.store.routeHistory(queue);
  }

  add(queue: string, input: NewRule, options: { expectedVersion?: number | undefined; force?: boolean | undefined }): Promise<RouteTableView> {
    return this.change(queue, options.expectedVersion, (current, version) => {
      const rule: RouteRule = {
        id: `r${version}`,
        to: input.to,
        type: input.type,
        headers: input.headers,
        percent: input.percent ?? 100,
        by: input.by,
        fallbackAfterMs: input.fallbackAfterMs ?? DEFAULT_FALLBACK_MS,
      };
      this.checkTarget(queue, rule.to, options.force === true);
      return { rules: [...current, rule], change: `add ${rule.id}: ${describeRule(rule)}` };
    });
  }

  remove(queue: string, ruleId: string, expectedVersion?: number): Promise<RouteTableView> {
    return this.change(queue, expectedVersion, (current) => {
      if (!current.some((rule) => rule.id === ruleId)) throw new NotFoundError(`queue ${queue} has no routing rule ${ruleId}`);
      return { rules: current.filter((rule) => rule.id !== ruleId), change: `remove ${ruleId}` };
    });
  }

  rollback(queue: string, version: number, options: { expectedVersion?: number | undefined; force?: boolean | undefined }): Promise<RouteTableView> {
    return this.change(queue, options.expectedVersion, () => {
      const old = version === 0 ? { rules: [] } : this.deps.store.routeHistory(queue).find((v) => v.version === version);
      if (!old) throw new NotFoundError(`queue ${queue} has no routing version ${version}`);
      for (const rule of old.rules) this.checkTarget(queue, rule.to, options.force === true);
      return { rules: old.rules, change: `rollback to version ${version}` };
    });
  }

  /** Persists a new version, then puts it in force. */
  private change(
    queue: string,
    expectedVersion: number | undefined,
    build: (current: readonly RouteRule[], nextVersion: number) => { rules: RouteRule[]; change: string },
  ): Promise<RouteTableView> {
    return this.lock.run(async () => {
      const current = this.tables.get(queue) ?? { version: 0, rules: [] };
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw new ConflictError(`routing rules of queue ${queue} are at version ${current.version}, not ${expectedVersion}: reload and retry`);
      }
      const version = current.version + 1;
      const { rules, change } = build(current.rules, version);
      const record: RouteVersion = { queue, version, rules, change, createdAt: this.deps.clock.now() };
      await this.deps.commit("routing change", [{ op: "routes.saveVersion", version: record }]);
      this.tables.set(queue, { version, rules });
      return this.table(queue);
    });
  }

  private checkTarget(source: string, target: string, force: boolean): void {
    if (target === source) throw new InvalidArgumentError(`a rule of queue ${source} cannot route to ${source} itself`);
    if (createsCycle(source, target, (queue) => (this.tables.get(queue)?.rules ?? []).map((rule) => rule.to))) {
      throw new InvalidArgumentError(`routing ${source} -> ${target} would make a cycle (${target} already routes back to ${source})`);
    }
    if (force) return;
    const last = this.deps.lastPolled(target);
    if (last === undefined || this.deps.clock.now() - last > LIVE_TARGET_MS) {
      throw new ConflictError(`target queue ${target} has no live poller (none in the last 60 s); start a worker on it first, or pass force`);
    }
  }

  private statsOf(queue: string, ruleId: string): Omit<RuleStats, "stranded"> {
    const key = `${queue}\u0000${ruleId}`;
    let stats = this.stats.get(key);
    if (!stats) this.stats.set(key, (stats = { routed: 0, started: 0, fellBack: 0 }));
    return stats;
  }
}

function describeRule(rule: RouteRule): string {
  const match = [rule.type && `type ${rule.type}`, ...Object.entries(rule.headers ?? {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(", ");
  const share = rule.percent < 100 ? ` ${rule.percent}%${rule.by ? ` by ${rule.by}` : ""}` : "";
  return `${match || "all"}${share} -> ${rule.to}`;
}
