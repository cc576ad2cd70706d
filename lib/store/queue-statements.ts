/** Statements of the `queues` table: settings and last-poll times. */
import type { FairnessSetting, QueueSettings } from "../core/index.ts";
import type { QueuesTable } from "./schema.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";

export interface StoredQueue {
  name: string;
  settings: QueueSettings;
  lastPolledAt: number | undefined;
}

export class QueueStatements {
  private readonly upsertSettings: PreparedStatement;
  private readonly upsertPolled: PreparedStatement;
  private readonly selectAll: PreparedStatement;

  constructor(db: SqliteConnection) {
    this.upsertSettings = db.prepare(
      "INSERT INTO queues (name, paused, rate, burst, fairness) VALUES ($name, $paused, $rate, $burst, $fairness) ON CONFLICT(name) DO UPDATE SET paused = excluded.paused, rate = excluded.rate, burst = excluded.burst, fairness = excluded.fairness",
    );
    this.upsertPolled = db.prepare(
      "INSERT INTO queues (name, last_polled_at) VALUES ($name, $at) ON CONFLICT(name) DO UPDATE SET last_polled_at = excluded.last_polled_at",
    );
    this.selectAll = db.prepare("SELECT name, paused, rate, burst, fairness, last_polled_at FROM queues");
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
}
