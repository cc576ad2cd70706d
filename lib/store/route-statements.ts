/** Statements of the `routes` table: every version of every queue's traffic rules. */
import type { RouteRule } from "../core/index.ts";
import type { RoutesTable } from "./schema.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";

export interface RouteVersion {
  queue: string;
  version: number;
  rules: RouteRule[];
  change: string;
  createdAt: number;
}

export class RouteStatements {
  private readonly insert: PreparedStatement;
  private readonly selectLatest: PreparedStatement;
  private readonly selectHistory: PreparedStatement;

  constructor(db: SqliteConnection) {
    this.insert = db.prepare("INSERT INTO routes (queue, version, rules, change, created_at) VALUES ($queue, $version, $rules, $change, $created_at)");
    this.selectLatest = db.prepare(
      "SELECT r.queue, r.version, r.rules, r.change, r.created_at FROM routes r JOIN (SELECT queue, max(version) AS version FROM routes GROUP BY queue) m ON r.queue = m.queue AND r.version = m.version",
    );
    this.selectHistory = db.prepare("SELECT queue, version, rules, change, created_at FROM routes WHERE queue = $queue ORDER BY version");
  }

  save(version: RouteVersion): void {
    const row: RoutesTable = { queue: version.queue, version: version.version, rules: JSON.stringify(version.rules), change: version.change, created_at: version.createdAt };
    this.insert.run(row as never);
  }

  latest(): RouteVersion[] {
    return (this.selectLatest.all() as RoutesTable[]).map(versionOfRow);
  }

  history(queue: string): RouteVersion[] {
    return (this.selectHistory.all({ queue }) as RoutesTable[]).map(versionOfRow);
  }
}

function versionOfRow(row: RoutesTable): RouteVersion {
  return { queue: row.queue, version: row.version, rules: JSON.parse(row.rules) as RouteRule[], change: row.change, createdAt: row.created_at };
}
