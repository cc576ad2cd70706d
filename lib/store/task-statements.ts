/**
 * The prepared statements behind each named operation, and the row <-> record mapping. Raw
 * bun:sqlite statements (through the connection adapter) because these run on every request.
 */
import {
  DEFAULT_START_TO_CLOSE_MS,
  idNeedsIndex,
  resolveTaskOptions,
  seqInTaskId,
  type AttemptRecord,
  type ColdLine,
  type LivePlacement,
  type LiveTaskState,
  type TaskOptions,
  type TaskRecord,
  type TaskState,
} from "../core/index.ts";
import type { FinalCounts } from "./final-counts.ts";
import type { AttemptsTable, TasksTable } from "./schema.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";
import type { FinalTaskRef, StoreOp } from "./task-store.ts";

/** A `tasks` row as the reads return it (the kysely table type, one definition). */
export type TaskRow = Omit<TasksTable, "id_indexed">;

const TASK_COLUMNS =
  "seq, id, queue, type, state, attempt, input, result, error, heartbeat, start_to_close_ms, lease_token, lease_deadline, worker, created_at, started_at, finished_at, priority, budget_start, options, run_at, ready_at, close_deadline, cancel_requested, fairness_key, headers, routed_from, route_rule_id, fallback_queue, fallback_at";
const MUTABLE_COLUMNS = [
  "state", "attempt", "result", "error", "heartbeat", "lease_token", "lease_deadline", "worker", "started_at", "finished_at",
  "budget_start", "run_at", "ready_at", "close_deadline", "cancel_requested", "queue", "fallback_at",
] as const;

/** What a row's final count depends on. */
type CountedColumns = Pick<TaskRow, "queue" | "state" | "finished_at">;

export class TaskStatements {
  private readonly insert: PreparedStatement;
  private readonly markDispatched: PreparedStatement;
  private readonly saveState: PreparedStatement;
  private readonly saveFinalState: PreparedStatement;
  private readonly moveRow: PreparedStatement;
  private readonly selectSeqCarried: PreparedStatement;
  private readonly selectSeqIndexed: PreparedStatement;
  private readonly selectCounted: PreparedStatement;
  private readonly recordHeartbeat: PreparedStatement;
  private readonly deleteTask: PreparedStatement;
  private readonly deleteAttempts: PreparedStatement;
  private readonly insertAttempt: PreparedStatement;
  private readonly selectByCarriedSeq: PreparedStatement;
  private readonly selectByIndexedId: PreparedStatement;
  private readonly selectByCarriedSeqs: PreparedStatement;
  private readonly selectByIndexedIds: PreparedStatement;
  private readonly selectAttempts: PreparedStatement;
  private readonly selectDead: PreparedStatement;
  private readonly selectFinishedBefore: PreparedStatement;
  private readonly selectDeadBefore: PreparedStatement;
  private readonly selectPlacements: PreparedStatement;
  private readonly selectLiveBySeq: PreparedStatement;
  private readonly selectInput: PreparedStatement;
  private readonly selectCold: PreparedStatement;

  /** `finalCounts` hears of every row that becomes final or stops being final. */
  constructor(
    db: SqliteConnection,
    private readonly finalCounts: FinalCounts,
  ) {
    const placeholders = TASK_COLUMNS.split(", ").map((column) => `$${column}`).join(", ");
    this.insert = db.prepare(`INSERT INTO tasks (${TASK_COLUMNS}, id_indexed) VALUES (${placeholders}, $id_indexed)`);
    // A row is found by its seq, the rowid, and the id is checked. Where only the id is known,
    // a minted id carries the seq (lib/core/minted-task-id.ts); any other id is in the partial
    // index tasks_by_indexed_id. The hot writes know the seq; one whose row is not found by it
    // finds the seq from the id and tries again, so a write is never silently dropped. A
    // dispatch record never applies to a final row: a task that ended stays ended.
    this.selectSeqCarried = db.prepare("SELECT seq FROM tasks WHERE seq = $seq AND id = $id");
    this.selectSeqIndexed = db.prepare("SELECT seq FROM tasks WHERE id = $id AND id_indexed = 1");
    const dispatchColumns = "state = 'running', attempt = $attempt, lease_token = $leaseToken, lease_deadline = $leaseDeadline, worker = $worker, started_at = $startedAt, ready_at = NULL";
    this.markDispatched = db.prepare(`UPDATE tasks SET ${dispatchColumns} WHERE seq = $seq AND id = $id AND finished_at IS NULL`);
    // The hot save (a live row) knows without a read that the row was live, so only the new
    // state counts for the final counts. A row it does not find (a stale seq, or a final row)
    // is found from its id, and what it counted for is read first.
    const stateColumns = MUTABLE_COLUMNS.map((c) => `${c} = $${c}`).join(", ");
    this.saveState = db.prepare(`UPDATE tasks SET ${stateColumns} WHERE seq = $seq AND id = $id AND finished_at IS NULL`);
    this.saveFinalState = db.prepare(`UPDATE tasks SET ${stateColumns} WHERE seq = $seq AND id = $id`);
    this.selectCounted = db.prepare("SELECT queue, state, finished_at FROM tasks WHERE seq = $seq");
    // A requeued task takes a new place in line: its row's key changes with the rest (the id
    // stays; a minted one now carries the old seq, so the index finds it from then on).
    this.moveRow = db.prepare(`UPDATE tasks SET seq = $seq, id_indexed = $idIndexed, ${stateColumns} WHERE seq = $fromSeq AND id = $id AND finished_at IS NOT NULL`);
    this.recordHeartbeat = db.prepare("UPDATE tasks SET heartbeat = coalesce($heartbeat, heartbeat), lease_deadline = $leaseDeadline WHERE seq = $seq AND id = $id");
    this.deleteTask = db.prepare("DELETE FROM tasks WHERE seq = $seq AND id = $id RETURNING queue, state, finished_at");
    this.deleteAttempts = db.prepare("DELETE FROM attempts WHERE task_id = $id");
    this.insertAttempt = db.prepare(
      "INSERT OR REPLACE INTO attempts (task_id, attempt, worker, started_at, ended_at, outcome, error) VALUES ($task_id, $attempt, $worker, $started_at, $ended_at, $outcome, $error)",
    );
    this.selectByCarriedSeq = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE seq = $seq AND id = $id`);
    this.selectByIndexedId = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $id AND id_indexed = 1`);
    // The same two lookups for many ids at once (a batch of producer ids, see readByIds).
    this.selectByCarriedSeqs = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE seq IN (SELECT value FROM json_each($seqs))`);
    this.selectByIndexedIds = db.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each($ids)) AND id_indexed = 1`);
    this.selectAttempts = db.prepare("SELECT task_id, attempt, worker, started_at, ended_at, outcome, error FROM attempts WHERE task_id = $id ORDER BY attempt");
    this.selectDead = db.prepare(
      `SELECT ${TASK_COLUMNS} FROM tasks WHERE queue = $queue AND state IN ('failed', 'timed_out') ORDER BY finished_at LIMIT $limit`,
    );
    this.selectFinishedBefore = db.prepare(
      "SELECT id, seq, queue, state FROM tasks WHERE finished_at IS NOT NULL AND finished_at < $before ORDER BY finished_at LIMIT $limit",
    );
    this.selectDeadBefore = db.prepare(
      "SELECT id, seq, queue, state FROM tasks WHERE queue = $queue AND state IN ('failed', 'timed_out') AND finished_at < $before ORDER BY finished_at LIMIT $limit",
    );
    // Boot reads where each live task belongs first (13 of the 30 columns: a million rows in
    // 0.55 s against 0.8 s whole here), then whole rows only for the tasks it keeps in memory,
    // inputs left in the store (the core reads them at dispatch). finished_at IS NULL selects
    // the partial index tasks_live_v3 and state guards the meaning.
    this.selectPlacements = db.prepare(
      "SELECT seq, queue, type, state, priority, fairness_key, start_to_close_ms, options, close_deadline, fallback_at, routed_from, cancel_requested, lease_token FROM tasks WHERE finished_at IS NULL AND state IN ('scheduled', 'pending', 'running') ORDER BY seq",
    );
    this.selectLiveBySeq = db.prepare(`SELECT ${TASK_COLUMNS.replace("input, ", "NULL AS input, ")} FROM tasks WHERE seq = $seq AND finished_at IS NULL`);
    // seq is the rowid: a lookup by it skips any index (about 0.8 against 1.4 µs a task).
    this.selectInput = db.prepare("SELECT input FROM tasks WHERE seq = $seq AND id = $id");
    // Listed seqs of one ready line (see lib/core/cold-tail.ts), each found by its rowid (a
    // range would also walk other lines' rows between them); inputs are read at dispatch, as
    // at boot.
    this.selectCold = db.prepare(
      `SELECT ${TASK_COLUMNS.replace("input, ", "NULL AS input, ")} FROM tasks WHERE seq IN (SELECT value FROM json_each($seqs)) AND finished_at IS NULL AND state = 'pending' AND queue = $queue AND type = $type AND priority = $priority AND fairness_key IS $fairnessKey ORDER BY seq`,
    );
  }

  /** Executes one named task write; the caller holds the transaction. */
  run(op: Exclude<StoreOp, { op: `queues.${string}` | `routes.${string}` | `workflow.${string}` }>): void {
    switch (op.op) {
      case "tasks.insert": {
        const row = rowOfRecord(op.task);
        this.insert.run(row as never);
        if (row.finished_at !== null) this.finalCounts.change(row.queue, row.state, 1);
        return;
      }
      case "tasks.markDispatched": {
        // Built whole rather than spread from the by-id parameters: one object a dispatch.
        const bySeq = { id: op.id, seq: op.seq, attempt: op.attempt, leaseToken: op.leaseToken, leaseDeadline: op.leaseDeadline, worker: op.worker, startedAt: op.startedAt };
        if (this.markDispatched.run(bySeq as never).changes === 0) {
          const seq = this.seqOf(op.id);
          if (seq !== undefined && seq !== op.seq) this.markDispatched.run({ ...bySeq, seq } as never);
        }
        return;
      }
      case "tasks.saveState": {
        const params = saveStateParams(op.task);
        if (this.saveState.run(params as never).changes === 0) {
          const seq = this.seqOf(op.task.id);
          if (seq === undefined) return;
          const before = this.selectCounted.get({ seq }) as CountedColumns;
          this.saveFinalState.run({ ...params, seq } as never);
          if (before.finished_at !== null) this.finalCounts.change(before.queue, before.state, -1);
        }
        if (params.finished_at !== null) this.finalCounts.change(op.task.queue, op.task.state, 1);
        return;
      }
      case "tasks.revive": {
        const { task, fromSeq, fromState } = op;
        const params = { ...saveStateParams(task), fromSeq, idIndexed: idNeedsIndex(task.id, task.seq) ? 1 : null };
        if (this.moveRow.run(params as never).changes !== 1) throw new Error(`task ${task.id} is not final at seq ${fromSeq}: not revived`);
        this.finalCounts.change(task.queue, fromState, -1);
        return;
      }
      case "tasks.recordHeartbeat":
        this.recordHeartbeat.run({ id: op.id, seq: op.seq, heartbeat: op.heartbeatJson ?? null, leaseDeadline: op.leaseDeadline });
        return;
      case "tasks.delete": {
        const deleted = this.deleteTask.get({ id: op.id, seq: op.seq }) as CountedColumns | null;
        if (deleted !== null && deleted.finished_at !== null) this.finalCounts.change(deleted.queue, deleted.state, -1);
        this.deleteAttempts.run({ id: op.id });
        return;
      }
      case "attempts.insert": {
        const a = op.attempt;
        const row: AttemptsTable = { task_id: a.taskId, attempt: a.attempt, worker: a.worker, started_at: a.startedAt, ended_at: a.endedAt, outcome: a.outcome, error: a.errorJson ?? null };
        this.insertAttempt.run(row as never);
        return;
      }
    }
  }

  /** The row by the seq its id carries, else by the index: one lookup, as `seqOf` decides. */
  readById(id: string): TaskRecord | undefined {
    const carried = seqInTaskId(id);
    const row = ((carried === undefined ? null : this.selectByCarriedSeq.get({ seq: carried, id })) ?? this.selectByIndexedId.get({ id })) as TaskRow | null;
    return row ? recordOfRow(row) : undefined;
  }

  /**
   * The tasks with these ids, each found as readById finds it, in two statements for all of
   * them: an enqueue of a batch whose producer chose the ids asks for every one that is not
   * live, and one lookup each took 2-3 µs of a task's 8-12 (bench/NOTES.md).
   */
  readByIds(ids: readonly string[]): Map<string, TaskRecord> {
    const found = new Map<string, TaskRecord>();
    if (ids.length === 1) {
      const record = this.readById(ids[0]!);
      if (record) found.set(record.id, record);
      return found;
    }
    const wanted = new Set(ids);
    const carried = new Set<number>();
    for (const id of ids) {
      const seq = seqInTaskId(id);
      // Past 2^53 no row's seq is meant (the digits of some other layout).
      if (seq !== undefined && Number.isSafeInteger(seq)) carried.add(seq);
    }
    if (carried.size > 0) {
      // Several ids may carry one seq: the row belongs to the one it has.
      for (const row of this.selectByCarriedSeqs.all({ seqs: JSON.stringify([...carried]) }) as TaskRow[]) {
        if (wanted.has(row.id) && seqInTaskId(row.id) === row.seq) found.set(row.id, recordOfRow(row));
      }
    }
    const rest = found.size === 0 ? ids : ids.filter((id) => !found.has(id));
    if (rest.length > 0) {
      for (const row of this.selectByIndexedIds.all({ ids: JSON.stringify(rest) }) as TaskRow[]) found.set(row.id, recordOfRow(row));
    }
    return found;
  }

  /** A task's input (undefined without one or for an unknown task). */
  readInput(id: string, seq: number): string | undefined {
    let row = this.selectInput.get({ seq, id }) as { input: string | null } | null;
    if (row === null) {
      const found = this.seqOf(id);
      if (found !== undefined && found !== seq) row = this.selectInput.get({ seq: found, id }) as { input: string | null } | null;
    }
    return row?.input ?? undefined;
  }

  /** The seq of the row with this id: the one its id carries, or the index's. */
  private seqOf(id: string): number | undefined {
    const carried = seqInTaskId(id);
    if (carried !== undefined && this.selectSeqCarried.get({ seq: carried, id }) !== null) return carried;
    return (this.selectSeqIndexed.get({ id }) as { seq: number } | null)?.seq;
  }

  /** Where each live task belongs, in enqueue order, one row at a time (see DispatchCore.restore). */
  *livePlacements(): Generator<LivePlacement> {
    for (const row of this.selectPlacements.iterate()) yield placementOfRow(row as PlacementRow);
  }

  /** A live task's whole row by seq, input left out (`inputJson` undefined). */
  readLiveBySeq(seq: number): TaskRecord | undefined {
    const row = this.selectLiveBySeq.get({ seq }) as TaskRow | null;
    return row ? recordOfRow(row) : undefined;
  }

  /** The still pending tasks of one ready line with these seqs, ascending, inputs left out. */
  readCold(line: ColdLine, seqs: readonly number[]): TaskRecord[] {
    const rows = this.selectCold.all({ seqs: JSON.stringify(seqs), queue: line.queue, type: line.type, priority: line.priority, fairnessKey: line.fairnessKey ?? null });
    return (rows as TaskRow[]).map(recordOfRow);
  }

  readAttempts(id: string): AttemptRecord[] {
    return (this.selectAttempts.all({ id }) as AttemptsTable[]).map((row) => ({
      taskId: row.task_id,
      attempt: row.attempt,
      worker: row.worker,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      outcome: row.outcome as AttemptRecord["outcome"],
      errorJson: row.error ?? undefined,
    }));
  }

  listDead(queue: string, limit: number): TaskRecord[] {
    return (this.selectDead.all({ queue, limit }) as TaskRow[]).map(recordOfRow);
  }

  listFinishedBefore(before: number, limit: number, scope?: { deadOfQueue: string }): FinalTaskRef[] {
    const rows = scope ? this.selectDeadBefore.all({ queue: scope.deadOfQueue, before, limit }) : this.selectFinishedBefore.all({ before, limit });
    return rows as FinalTaskRef[];
  }
}

type PlacementRow = Pick<
  TaskRow,
  "seq" | "queue" | "type" | "state" | "priority" | "fairness_key" | "start_to_close_ms" | "options" | "close_deadline" | "fallback_at" | "routed_from" | "cancel_requested" | "lease_token"
>;

function placementOfRow(row: PlacementRow): LivePlacement {
  return {
    seq: row.seq,
    queue: row.queue,
    type: row.type,
    state: row.state as LiveTaskState,
    priority: row.priority,
    fairnessKey: row.fairness_key ?? undefined,
    options: optionsOfRow(row),
    closeDeadline: row.close_deadline ?? undefined,
    fallbackAt: row.fallback_at ?? undefined,
    routedFrom: row.routed_from ?? undefined,
    cancelRequested: row.cancel_requested === 1,
    leased: row.lease_token !== null,
  };
}

export function recordOfRow(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    seq: row.seq,
    queue: row.queue,
    type: row.type,
    state: row.state as TaskState,
    priority: row.priority,
    fairnessKey: row.fairness_key ?? undefined,
    headers: row.headers === null ? undefined : (JSON.parse(row.headers) as Record<string, string>),
    routedFrom: row.routed_from ?? undefined,
    routeRuleId: row.route_rule_id ?? undefined,
    fallbackQueue: row.fallback_queue ?? undefined,
    fallbackAt: row.fallback_at ?? undefined,
    attempt: row.attempt,
    budgetStart: row.budget_start,
    inputJson: row.input ?? undefined,
    resultJson: row.result ?? undefined,
    errorJson: row.error ?? undefined,
    heartbeatJson: row.heartbeat ?? undefined,
    options: optionsOfRow(row),
    runAt: row.run_at ?? undefined,
    readyAt: row.ready_at ?? undefined,
    closeDeadline: row.close_deadline ?? undefined,
    cancelRequested: row.cancel_requested === 1,
    leaseToken: row.lease_token ?? undefined,
    leaseDeadline: row.lease_deadline ?? undefined,
    worker: row.worker ?? undefined,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
  };
}

/**
 * Options objects shared by their JSON text: a boot of a million tasks that mostly share a
 * handful of option sets then holds a handful of objects, not a million (options are
 * immutable after enqueue). Cleared when full, so unusual sets cannot grow it without bound.
 */
const optionsByText = new Map<string, TaskOptions>();
const MAX_SHARED_OPTIONS = 1_024;

/**
 * What a row without options means: start_to_close_ms, and these values for the rest. Rows
 * written before options existed have none, and tasks that take these values are written
 * without them: 151 of a default task row's about 330 bytes (batched enqueue through HTTP
 * from one producer, 3 interleaved pairs: 67,456-72,502 -> 75,882-85,562 tasks/s; the drain
 * +1.4 %). Pinned here rather than taken from the current defaults, so a future
 * change of the defaults cannot change what a stored task means.
 */
const ROW_DEFAULT_RETRY = { initialIntervalMs: 1_000, backoffCoefficient: 2, maxIntervalMs: 100_000, maxAttempts: 10 } as const;

function takesRowDefaults(options: TaskOptions): boolean {
  const retry = options.retry;
  return (
    options.scheduleToStartMs === undefined &&
    options.scheduleToCloseMs === undefined &&
    options.heartbeatMs === undefined &&
    retry.initialIntervalMs === ROW_DEFAULT_RETRY.initialIntervalMs &&
    retry.backoffCoefficient === ROW_DEFAULT_RETRY.backoffCoefficient &&
    retry.maxIntervalMs === ROW_DEFAULT_RETRY.maxIntervalMs &&
    retry.maxAttempts === ROW_DEFAULT_RETRY.maxAttempts &&
    retry.nonRetryableErrorTypes.length === 0
  );
}

/** Row defaults by start_to_close_ms: boot resolves them once per value, not once per row. */
const rowDefaultsByStartToClose = new Map<number, TaskOptions>();

function rowDefaults(startToCloseMs: number): TaskOptions {
  let options = rowDefaultsByStartToClose.get(startToCloseMs);
  if (!options) {
    // Today's defaults are the row defaults: the shared object every new default task holds.
    const current = resolveTaskOptions({ startToCloseMs });
    options = takesRowDefaults(current) ? current : resolveTaskOptions({ startToCloseMs, retry: { ...ROW_DEFAULT_RETRY, nonRetryableErrorTypes: [] } });
    if (rowDefaultsByStartToClose.size >= MAX_SHARED_OPTIONS) rowDefaultsByStartToClose.clear();
    rowDefaultsByStartToClose.set(startToCloseMs, options);
  }
  return options;
}

function optionsOfRow(row: Pick<TaskRow, "options" | "start_to_close_ms">): TaskOptions {
  if (row.options === null) return rowDefaults(row.start_to_close_ms ?? DEFAULT_START_TO_CLOSE_MS);
  let options = optionsByText.get(row.options);
  if (!options) {
    const parsed = JSON.parse(row.options) as TaskOptions;
    options = Object.freeze({ ...parsed, retry: Object.freeze({ ...parsed.retry, nonRetryableErrorTypes: Object.freeze(parsed.retry.nonRetryableErrorTypes) }) });
    if (optionsByText.size >= MAX_SHARED_OPTIONS) optionsByText.clear();
    optionsByText.set(row.options, options);
  }
  return options;
}

/**
 * The `options` column of a task: null for the row defaults, else the JSON. Options objects
 * are shared and frozen (see resolveTaskOptions), so each is checked and serialized once, not
 * once per row written (every settle's full save builds a row too) (in-process batched
 * enqueue, 3 pairs: 78,668-84,258 -> 87,739-91,602 tasks/s, CPU 12.8-13.8 -> 11.6-12.1 µs per
 * task; through HTTP from one producer, within the noise: 69,962-74,522 vs 69,461-74,674 tasks/s).
 */
const optionsColumns = new WeakMap<TaskOptions, string | null>();
function optionsColumn(options: TaskOptions): string | null {
  let column = optionsColumns.get(options);
  if (column === undefined) {
    column = takesRowDefaults(options) ? null : JSON.stringify(options);
    optionsColumns.set(options, column);
  }
  return column;
}

/**
 * The parameters of a full save: the row's key and its mutable columns, converted as
 * rowOfRecord converts them (the type makes it name every column of MUTABLE_COLUMNS). Built
 * directly, not picked from a whole row: a settle's save built a 30-field row and then copied
 * 17 of its fields under computed keys, one at a time. Written out beside rowOfRecord rather
 * than spread into it, which would cost every insert an object; the store's full-save test
 * holds the two to the same conversions.
 */
function saveStateParams(task: TaskRecord): Record<"id" | "seq" | (typeof MUTABLE_COLUMNS)[number], unknown> {
  return {
    id: task.id,
    seq: task.seq,
    state: task.state,
    attempt: task.attempt,
    result: task.resultJson ?? null,
    error: task.errorJson ?? null,
    heartbeat: task.heartbeatJson ?? null,
    lease_token: task.leaseToken ?? null,
    lease_deadline: task.leaseDeadline ?? null,
    worker: task.worker ?? null,
    started_at: task.startedAt ?? null,
    finished_at: task.finishedAt ?? null,
    budget_start: task.budgetStart,
    run_at: task.runAt ?? null,
    ready_at: task.readyAt ?? null,
    close_deadline: task.closeDeadline ?? null,
    cancel_requested: task.cancelRequested ? 1 : 0,
    queue: task.queue,
    fallback_at: task.fallbackAt ?? null,
  };
}

/** The row an insert writes: every column, and whether the id needs the index to be found. */
function rowOfRecord(task: TaskRecord): TasksTable {
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
    start_to_close_ms: task.options.startToCloseMs,
    lease_token: task.leaseToken ?? null,
    lease_deadline: task.leaseDeadline ?? null,
    worker: task.worker ?? null,
    created_at: task.createdAt,
    started_at: task.startedAt ?? null,
    finished_at: task.finishedAt ?? null,
    priority: task.priority,
    budget_start: task.budgetStart,
    options: optionsColumn(task.options),
    run_at: task.runAt ?? null,
    ready_at: task.readyAt ?? null,
    close_deadline: task.closeDeadline ?? null,
    cancel_requested: task.cancelRequested ? 1 : 0,
    fairness_key: task.fairnessKey ?? null,
    headers: task.headers === undefined ? null : JSON.stringify(task.headers),
    routed_from: task.routedFrom ?? null,
    route_rule_id: task.routeRuleId ?? null,
    fallback_queue: task.fallbackQueue ?? null,
    fallback_at: task.fallbackAt ?? null,
    id_indexed: idNeedsIndex(task.id, task.seq) ? 1 : null,
  };
}
