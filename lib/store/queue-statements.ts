/**
 * Statements of the `queues` table (settings and last-poll times) and of the per-queue final
 * counts, which live only in the store.
 */
import type { FairnessSetting, FinalTaskState, QueueSettings } from "../core/index.ts";
import type { QueuesTable } from "./schema.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";

export interface StoredQueue {
  name: string;
  settings: QueueSettings;
  lastPolledAt: number | undefined;
}

export interface FinalCountRow {
  queue: string;
  state: FinalTaskState;
  count: number;
}

export class QueueStatements {
  private readonly upsertSettings: PreparedStatement;
  private readonly upsertPolled: PreparedStatement;
  private readonly selectAll: PreparedStatement;
  private readonly countFinal: PreparedStatement;
  private readonly countFinalOf: PreparedStatement;

  constructor(db: SqliteConnection) {
    this.upsertSettings = db.prepare(
      "INSERT INTO queues (name, paused, rate, burst, fairness) VALUES ($name, $paused, $rate, $burst, $fairness) ON CONFLICT(name) DO UPDATE SET paused = excluded.paused, rate = excluded.rate, burst = excluded.burst, fairness = excluded.fairness",
    );
    this.upsertPolled = db.prepare(
      "INSERT INTO queues (name, last_polled_at) VALUES ($name, $at) ON CONFLICT(name) DO UPDATE SET last_polled_at = excluded.last_polled_at",
    );
    this.selectAll = db.prepare("SELECT name, paused, rate, burst, fairness, last_polled_at FROM queues");
    // The range condition lets the partial index serve a prefix listing.
    this.countFinal = db.prepare(
      "SELECT queue, state, count(*) AS count FROM tasks WHERE finished_at IS NOT NULL AND queue >= $from AND queue < $to GROUP BY queue, state",
    );
    this.countFinalOf = db.prepare("SELECT queue, state, count(*) AS count FROM tasks WHERE finished_at IS NOT NULL AND queue = $queue GROUP BY queue, state");
  }

  saveSettings(name: string, settings: QueueSettings): void {
    const fairness = settings.fairness.size === 0 ? null : JSON.stringify(Object.fromEntries(settings.fairness));
    this.upsertSettings.run({ name, paused: settings.paused ? 1 : 0, rate: settings.limit?.ratePerSecond ?? null, burst: settings.limit?.burst ?? null, fairness });
  }

  touchPolled(name: string, at: number): void {
    this.upsertPolled.run({ name, at });
  }

  loadAll(): StoredQueue[] {
    return (this.selectAll.all() as QueuesTable[]).map((row) => ({
      name: row.name,
      settings: {
        paused: row.paused === 1,
        limit: row.rate === null ? undefined : { ratePerSecond: row.rate, burst: row.burst ?? Math.max(1, Math.ceil(row.rate)) },
        fairness: new Map(Object.entries(row.fairness === null ? {} : (JSON.parse(row.fairness) as Record<string, FairnessSetting>))),
      },
      lastPolledAt: row.last_polled_at ?? undefined,
    }));
  }

  finalCounts(prefix: string): FinalCountRow[] {
    return this.countFinal.all({ from: prefix, to: prefix + "\u{10FFFF}" }) as FinalCountRow[];
  }

  finalCountsOf(queue: string): FinalCountRow[] {
    return this.countFinalOf.all({ queue }) as FinalCountRow[];
  }
}
