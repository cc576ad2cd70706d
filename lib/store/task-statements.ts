/**
 * The prepared statements behind each named write, and the row <-> record mapping. Raw
 * bun:sqlite statements (through the connection adapter) because these run on every request.
 */
import type { TaskRecord, TaskState } from "../core/index.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";
import type { TasksTable } from "./schema.ts";
import type { StoreOp } from "./task-store.ts";

const TASK_COLUMNS =
  "seq, id, queue, type, state, attempt, input, result, error, heartbeat, start_to_close_ms, lease_token, lease_deadline, worker, created_at, started_at, finished_at";

/** A `tasks` row as bun:sqlite returns it (the kysely table type, one definition). */
export type TaskRow = TasksTable;

export class TaskStatements {
  private readonly insert: PreparedStatement;
  private readonly markDispatched: PreparedStatement;
  private readonly markPending: PreparedStatement;
  private readonly recordHeartbeat: PreparedStatement;
  private readonly markFinished: PreparedStatement;
  private readonly selectById: PreparedStatement;

  constructor(db: SqliteConnection) {
    this.insert = db.prepare(
      `INSERT INTO tasks (${TASK_COLUMNS}) VALUES ($seq, $id, $queue, $type, $state, $attempt, $input, $result, $error, $heartbeat, $start_to_close_ms, $lease_token, $lease_deadline, $worker, $created_at, $started_at, $finished_at)`,
    );
    this.markDispatched = db.prepare(
      "UPDATE tasks SET state = 'running', attempt = $attempt, lease_token = $leaseToken, lease_deadline = $leaseDeadline, worker = $worker, started_at = $startedAt WHERE id = $id",
    );
    this.markPending = db.prepare(
      "UPDATE tasks SET state = 'pending', attempt = $attempt, lease_token = NULL, lease_deadline = NULL WHERE id = $id",
    );
    this.recordHeartbeat = db.prepare(
      "UPDATE tasks SET heartbeat = coalesce($heartbeat, heartbeat), lease_deadline = $leaseDeadline WHERE id = $id",
    );
    // Writes the whole attempt, so a lost markDispatched never leaves a final row incomplete.
    this.markFinished = db.prepare(
      "UPDATE tasks SET state = $state, attempt = $attempt, lease_token = $leaseToken, lease_deadline = NULL, worker = $worker, started_at = $startedAt, result = $result, error = $error, finished_at = $finishedAt WHERE id = $id",
    );
    this.selectById = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $id`);
  }

  /** Executes one named write; the caller holds the transaction. */
  run(op: StoreOp): void {
    switch (op.op) {
      case "tasks.insert":
        this.insert.run(rowOfRecord(op.task) as never);
        return;
      case "tasks.markDispatched":
        this.markDispatched.run({ id: op.id, attempt: op.attempt, leaseToken: op.leaseToken, leaseDeadline: op.leaseDeadline, worker: op.worker, startedAt: op.startedAt });
        return;
      case "tasks.markPending":
        this.markPending.run({ id: op.id, attempt: op.attempt });
        return;
      case "tasks.recordHeartbeat":
        this.recordHeartbeat.run({ id: op.id, heartbeat: op.heartbeatJson ?? null, leaseDeadline: op.leaseDeadline });
        return;
      case "tasks.markFinished":
        this.markFinished.run({
          id: op.id,
          state: op.state,
          attempt: op.attempt,
          leaseToken: op.leaseToken,
          worker: op.worker,
          startedAt: op.startedAt,
          result: op.resultJson ?? null,
          error: op.errorJson ?? null,
          finishedAt: op.finishedAt,
        });
        return;
    }
  }

  readById(id: string): TaskRecord | undefined {
    const row = this.selectById.get({ id }) as TaskRow | null;
    return row ? recordOfRow(row) : undefined;
  }
}

export function recordOfRow(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    seq: row.seq,
    queue: row.queue,
    type: row.type,
    state: row.state as TaskState,
    attempt: row.attempt,
    inputJson: row.input ?? undefined,
    resultJson: row.result ?? undefined,
    errorJson: row.error ?? undefined,
    heartbeatJson: row.heartbeat ?? undefined,
    startToCloseMs: row.start_to_close_ms,
    leaseToken: row.lease_token ?? undefined,
    leaseDeadline: row.lease_deadline ?? undefined,
    worker: row.worker ?? undefined,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
  };
}

function rowOfRecord(task: TaskRecord): TaskRow {
  return {
    seq: task.seq,
    id: task.id,
    queue: task.queue,
    type: task.type,
    state: task.state,
    attempt: task.attempt,
    input: task.inputJson ?? null,
    result: task.resultJson ?? null,
    error: task.errorJson ?? null,
    heartbeat: task.heartbeatJson ?? null,
    start_to_close_ms: task.startToCloseMs,
    lease_token: task.leaseToken ?? null,
    lease_deadline: task.leaseDeadline ?? null,
    worker: task.worker ?? null,
    created_at: task.createdAt,
    started_at: task.startedAt ?? null,
    finished_at: task.finishedAt ?? null,
  };
}
