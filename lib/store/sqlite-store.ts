/**
 * The SQLite implementation of the TaskStore port: group-committed writes through prepared
 * statements, kysely for migrations and the boot-time queries.
 */
import { Kysely } from "kysely";
import type { ColdLine } from "../core/index.ts";
import { FinalCounts } from "./final-counts.ts";
import { GroupCommitter } from "./group-commit.ts";
import { supersededDispatches } from "./superseded-ops.ts";
import { MIGRATIONS, migrateToLatest, SqliteDialectWithTransactionalDdl, type DatabaseSchema } from "./schema.ts";
import { createFromBaseline, schemaStateOf } from "./schema-baseline.ts";
import { openSqlite, type SqliteConnection } from "./sqlite.ts";
import { QueueStatements } from "./queue-statements.ts";
import { RouteStatements } from "./route-statements.ts";
import { WorkflowStatements } from "./workflow-statements.ts";
import { TaskStatements } from "./task-statements.ts";
import type { CommitStats, LiveSnapshot, StoreOp, TaskStore, WorkflowListFilter } from "./task-store.ts";

export interface SqliteStoreOptions {
  dataDir: string;
  /** Written next to the database so a second daemon can say who holds the lock. */
  pid: number;
  /** Told about staged writes that could not be committed (they are recoverable, see core). */
  onStagedFailure?: (error: unknown, opCount: number) => void;
}

/** Opens the store: locks the directory, migrates the schema, prepares statements. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<TaskStore> {
  const connection = openSqlite(options.dataDir, options.pid);
  try {
    const kysely = new Kysely<DatabaseSchema>({ dialect: new SqliteDialectWithTransactionalDdl({ database: connection.kyselyDatabase() }) });
    // A new database starts from the baseline script, and a current one skips the migrator
    // (see schema-baseline.ts); the migrator applies whatever else there is.
    const names = Object.keys(MIGRATIONS);
    let state = schemaStateOf(connection, names);
    if (state === "empty") {
      createFromBaseline(connection, new Date());
      state = schemaStateOf(connection, names);
    }
    // An upgrade may rewrite a table (0008 rewrites tasks): its pages then fill the WAL, which
    // SQLite reuses but never shrinks while the daemon runs. Copied into the database now.
    if (state === "other" && (await migrateToLatest(kysely)) === "upgraded") connection.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
    return new SqliteTaskStore(connection, kysely, options);
  } catch (error) {
    connection.close();
    throw error;
  }
}

class SqliteTaskStore implements TaskStore {
  private readonly statements: TaskStatements;
  private readonly finalCountTable: FinalCounts;
  private readonly queueStatements: QueueStatements;
  private readonly routeStatements: RouteStatements;
  private readonly workflowStatements: WorkflowStatements;
  private readonly committer: GroupCommitter<StoreOp>;

  constructor(
    private readonly connection: SqliteConnection,
    private readonly kysely: Kysely<DatabaseSchema>,
    options: SqliteStoreOptions,
  ) {
    this.finalCountTable = new FinalCounts(connection);
    this.statements = new TaskStatements(connection, this.finalCountTable);
    this.queueStatements = new QueueStatements(connection);
    this.routeStatements = new RouteStatements(connection);
    this.workflowStatements = new WorkflowStatements(connection);
    this.committer = new GroupCommitter<StoreOp>({
      writeBatch: (ops) => {
        try {
          connection.transaction(() => {
            const superseded = supersededDispatches(ops);
            for (let i = 0; i < ops.length; i++) if (superseded === undefined || !superseded.has(i)) this.runOp(ops[i]!);
            this.finalCountTable.write();
          });
        } catch (error) {
          this.finalCountTable.discard();
          throw error;
        }
      },
      onStagedFailure: (error, ops) => options.onStagedFailure?.(error, ops.length),
    });
  }

  private runOp(op: StoreOp): void {
    if (op.op === "queues.saveSettings") this.queueStatements.saveSettings(op.name, op.settings);
    else if (op.op === "queues.touchPolled") this.queueStatements.touchPolled(op.name, op.at);
    else if (op.op === "routes.saveVersion") this.routeStatements.save(op.version);
    else if (op.op.startsWith("workflow.")) this.workflowStatements.run(op as Extract<StoreOp, { op: `workflow.${string}` }>);
    else this.statements.run(op as Exclude<StoreOp, { op: `queues.${string}` | `routes.${string}` | `workflow.${string}` }>);
  }

  finalCounts(prefix: string) {
    return this.finalCountTable.byPrefix(prefix);
  }

  finalCountsOf(queue: string) {
    return this.finalCountTable.of(queue);
  }

  routeHistory(queue: string) {
    return this.routeStatements.history(queue);
  }

  readWorkflow(id: string) {
    return this.workflowStatements.readWorkflow(id);
  }

  readWorkflowEvents(id: string, after: number, limit: number) {
    return this.workflowStatements.readEvents(id, after, limit);
  }

  readWorkflowSessions(id: string) {
    return this.workflowStatements.readSessions(id);
  }

  listWorkflows(filter: WorkflowListFilter) {
    return this.workflowStatements.list(filter);
  }

  listWorkflowsClosedBefore(before: number, limit: number) {
    return this.workflowStatements.listClosedBefore(before, limit);
  }

  loadRunningWorkflows() {
    return this.workflowStatements.loadRunning();
  }

  commit(ops: StoreOp[], options?: { patient?: boolean }): Promise<void> {
    return this.committer.commit(ops, options?.patient ?? false);
  }

  stage(ops: StoreOp[], options?: { rideAlong?: boolean }): void {
    this.committer.stage(ops, options?.rideAlong ?? false);
  }

  readTask(id: string) {
    return this.statements.readById(id);
  }

  readTasks(ids: readonly string[]) {
    return this.statements.readByIds(ids);
  }

  readAttempts(id: string) {
    return this.statements.readAttempts(id);
  }

  listDead(queue: string, limit: number) {
    return this.statements.listDead(queue, limit);
  }

  listFinishedBefore(before: number, limit: number, scope?: { deadOfQueue: string }) {
    return this.statements.listFinishedBefore(before, limit, scope);
  }

  readInput(id: string, seq: number) {
    return this.statements.readInput(id, seq);
  }

  loadCold(line: ColdLine, seqs: readonly number[]) {
    return this.statements.readCold(line, seqs);
  }

  async loadLive(): Promise<LiveSnapshot> {
    const max = await this.kysely
      .selectFrom("tasks")
      .select((eb) => eb.fn.max<number | null>("seq").as("maxSeq"))
      .executeTakeFirst();
    return {
      live: { placements: this.statements.livePlacements(), readLive: (seq) => this.statements.readLiveBySeq(seq) },
      queues: this.queueStatements.loadAll(),
      routes: this.routeStatements.latest(),
      maxSeq: max?.maxSeq ?? 0,
    };
  }

  stats(): CommitStats {
    const c = this.committer;
    return { commits: c.commits, opsCommitted: c.opsCommitted, lastBatchOps: c.lastBatchOps, batchSizes: c.batchSizes, commitSeconds: c.commitSeconds };
  }

  async close(): Promise<void> {
    this.committer.close();
    await this.kysely.destroy();
    this.connection.close();
  }
}
