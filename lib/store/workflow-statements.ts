/**
 * Statements of the workflow tables: executions, their append-only histories, the links from
 * tasks to executions, sessions and timers.
 */
import type { StoredWorkflowEvent, WorkflowLink, WorkflowLinkKind, WorkflowRecord, WorkflowRecordState, WorkflowSession, WorkflowSessionState, WorkflowTimer } from "../core/index.ts";
import type { WorkflowEventsTable, WorkflowLinksTable, WorkflowSessionsTable, WorkflowsTable, WorkflowTimersTable } from "./schema.ts";
import type { PreparedStatement, SqliteConnection } from "./sqlite.ts";
import type { RunningWorkflows, StoreOp, WorkflowListFilter } from "./task-store.ts";

const WORKFLOW_COLUMNS =
  "id, type, queue, state, input, result, error, created_at, closed_at, last_event_id, seen_up_to, random_seed, sticky_timeout_ms, sticky_worker, task_id, task_failures, last_task_error, blocked_on";

export class WorkflowStatements {
  private readonly save: PreparedStatement;
  private readonly deleteStatements: PreparedStatement[];
  private readonly appendEvent: PreparedStatement;
  private readonly insertLink: PreparedStatement;
  private readonly deleteLink: PreparedStatement;
  private readonly saveSession: PreparedStatement;
  private readonly insertTimer: PreparedStatement;
  private readonly deleteTimer: PreparedStatement;
  private readonly selectById: PreparedStatement;
  private readonly selectEvents: PreparedStatement;
  private readonly selectSessions: PreparedStatement;
  private readonly selectRunning: PreparedStatement;
  private readonly selectRunningLinks: PreparedStatement;
  private readonly selectRunningSessions: PreparedStatement;
  private readonly selectRunningTimers: PreparedStatement;
  private readonly selectClosedBefore: PreparedStatement;
  private readonly listStatements: Record<"all" | "queue" | "state" | "both", PreparedStatement>;

  constructor(db: SqliteConnection) {
    const placeholders = WORKFLOW_COLUMNS.split(", ").map((column) => `$${column}`).join(", ");
    this.save = db.prepare(`INSERT OR REPLACE INTO workflows (${WORKFLOW_COLUMNS}) VALUES (${placeholders})`);
    this.deleteStatements = ["workflows WHERE id", "workflow_events WHERE workflow_id", "workflow_links WHERE workflow_id", "workflow_sessions WHERE workflow_id", "workflow_timers WHERE workflow_id"].map(
      (target) => db.prepare(`DELETE FROM ${target} = $id`),
    );
    this.appendEvent = db.prepare("INSERT INTO workflow_events (workflow_id, event_id, at, kind, body) VALUES ($workflow_id, $event_id, $at, $kind, $body)");
    this.insertLink = db.prepare("INSERT OR REPLACE INTO workflow_links (task_id, workflow_id, kind, seq, session, type) VALUES ($task_id, $workflow_id, $kind, $seq, $session, $type)");
    this.deleteLink = db.prepare("DELETE FROM workflow_links WHERE task_id = $id");
    this.saveSession = db.prepare(
      "INSERT OR REPLACE INTO workflow_sessions (workflow_id, seq, queue, task_id, state, worker, worker_queue) VALUES ($workflow_id, $seq, $queue, $task_id, $state, $worker, $worker_queue)",
    );
    this.insertTimer = db.prepare("INSERT OR REPLACE INTO workflow_timers (workflow_id, seq, fire_at) VALUES ($workflow_id, $seq, $fire_at)");
    this.deleteTimer = db.prepare("DELETE FROM workflow_timers WHERE workflow_id = $workflow_id AND seq = $seq");
    this.selectById = db.prepare(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE id = $id`);
    this.selectEvents = db.prepare("SELECT workflow_id, event_id, at, kind, body FROM workflow_events WHERE workflow_id = $id AND event_id > $after ORDER BY event_id LIMIT $limit");
    this.selectSessions = db.prepare("SELECT workflow_id, seq, queue, task_id, state, worker, worker_queue FROM workflow_sessions WHERE workflow_id = $id ORDER BY seq");
    this.selectRunning = db.prepare(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE state = 'running'`);
    const ofRunning = "workflow_id IN (SELECT id FROM workflows WHERE state = 'running')";
    this.selectRunningLinks = db.prepare(`SELECT task_id, workflow_id, kind, seq, session, type FROM workflow_links WHERE ${ofRunning}`);
    this.selectRunningSessions = db.prepare(`SELECT workflow_id, seq, queue, task_id, state, worker, worker_queue FROM workflow_sessions WHERE ${ofRunning}`);
    this.selectRunningTimers = db.prepare(`SELECT workflow_id, seq, fire_at FROM workflow_timers WHERE ${ofRunning}`);
    this.selectClosedBefore = db.prepare("SELECT id FROM workflows WHERE closed_at IS NOT NULL AND closed_at < $before ORDER BY closed_at LIMIT $limit");
    const list = (where: string) => db.prepare(`SELECT ${WORKFLOW_COLUMNS} FROM workflows ${where} ORDER BY created_at DESC, id DESC LIMIT $limit`);
    this.listStatements = {
      all: list(""),
      queue: list("WHERE queue = $queue"),
      state: list("WHERE state = $state"),
      both: list("WHERE queue = $queue AND state = $state"),
    };
  }

  /** Executes one named workflow write; the caller holds the transaction. */
  run(op: Extract<StoreOp, { op: `workflow.${string}` }>): void {
    switch (op.op) {
      case "workflow.save":
        this.save.run(rowOfWorkflow(op.workflow) as never);
        return;
      case "workflow.delete":
        for (const statement of this.deleteStatements) statement.run({ id: op.id });
        return;
      case "workflow.appendEvent": {
        const e = op.event;
        const row: WorkflowEventsTable = { workflow_id: e.workflowId, event_id: e.id, at: e.at, kind: e.kind, body: e.bodyJson };
        this.appendEvent.run(row as never);
        return;
      }
      case "workflow.insertLink": {
        const l = op.link;
        const row: WorkflowLinksTable = { task_id: l.taskId, workflow_id: l.workflowId, kind: l.kind, seq: l.seq, session: l.session ?? null, type: l.type };
        this.insertLink.run(row as never);
        return;
      }
      case "workflow.deleteLink":
        this.deleteLink.run({ id: op.taskId });
        return;
      case "workflow.saveSession":
        this.saveSession.run(rowOfSession(op.session) as never);
        return;
      case "workflow.insertTimer": {
        const row: WorkflowTimersTable = { workflow_id: op.timer.workflowId, seq: op.timer.seq, fire_at: op.timer.fireAt };
        this.insertTimer.run(row as never);
        return;
      }
      case "workflow.deleteTimer":
        this.deleteTimer.run({ workflow_id: op.workflowId, seq: op.seq });
        return;
    }
  }

  readWorkflow(id: string): WorkflowRecord | undefined {
    const row = this.selectById.get({ id }) as WorkflowsTable | null;
    return row ? workflowOfRow(row) : undefined;
  }

  readEvents(id: string, after: number, limit: number): StoredWorkflowEvent[] {
    return (this.selectEvents.all({ id, after, limit }) as WorkflowEventsTable[]).map((row) => ({
      workflowId: row.workflow_id,
      id: row.event_id,
      at: row.at,
      kind: row.kind,
      bodyJson: row.body,
    }));
  }

  readSessions(id: string): WorkflowSession[] {
    return (this.selectSessions.all({ id }) as WorkflowSessionsTable[]).map(sessionOfRow);
  }

  list(filter: WorkflowListFilter): WorkflowRecord[] {
    const key = filter.queue !== undefined ? (filter.state !== undefined ? "both" : "queue") : filter.state !== undefined ? "state" : "all";
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.queue !== undefined) params.queue = filter.queue;
    if (filter.state !== undefined) params.state = filter.state;
    return (this.listStatements[key].all(params as never) as WorkflowsTable[]).map(workflowOfRow);
  }

  listClosedBefore(before: number, limit: number): string[] {
    return (this.selectClosedBefore.all({ before, limit }) as { id: string }[]).map((row) => row.id);
  }

  loadRunning(): RunningWorkflows {
    return {
      workflows: (this.selectRunning.all() as WorkflowsTable[]).map(workflowOfRow),
      links: (this.selectRunningLinks.all() as WorkflowLinksTable[]).map((row) => ({
        taskId: row.task_id,
        workflowId: row.workflow_id,
        kind: row.kind as WorkflowLinkKind,
        seq: row.seq,
        session: row.session ?? undefined,
        type: row.type,
      })),
      sessions: (this.selectRunningSessions.all() as WorkflowSessionsTable[]).map(sessionOfRow),
      timers: (this.selectRunningTimers.all() as WorkflowTimersTable[]).map((row) => ({ workflowId: row.workflow_id, seq: row.seq, fireAt: row.fire_at })),
    };
  }
}

function rowOfWorkflow(w: WorkflowRecord): WorkflowsTable {
  return {
    id: w.id,
    type: w.type,
    queue: w.queue,
    state: w.state,
    input: w.inputJson ?? null,
    result: w.resultJson ?? null,
    error: w.errorJson ?? null,
    created_at: w.createdAt,
    closed_at: w.closedAt ?? null,
    last_event_id: w.lastEventId,
    seen_up_to: w.seenUpTo,
    random_seed: w.randomSeed,
    sticky_timeout_ms: w.stickyTimeoutMs,
    sticky_worker: w.stickyWorker ?? null,
    task_id: w.taskId ?? null,
    task_failures: w.taskFailures,
    last_task_error: w.lastTaskErrorJson ?? null,
    blocked_on: w.blockedOnJson ?? null,
  };
}

function workflowOfRow(row: WorkflowsTable): WorkflowRecord {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    state: row.state as WorkflowRecordState,
    inputJson: row.input ?? undefined,
    resultJson: row.result ?? undefined,
    errorJson: row.error ?? undefined,
    createdAt: row.created_at,
    closedAt: row.closed_at ?? undefined,
    lastEventId: row.last_event_id,
    seenUpTo: row.seen_up_to,
    randomSeed: row.random_seed,
    stickyTimeoutMs: row.sticky_timeout_ms,
    stickyWorker: row.sticky_worker ?? undefined,
    taskId: row.task_id ?? undefined,
    taskFailures: row.task_failures,
    lastTaskErrorJson: row.last_task_error ?? undefined,
    blockedOnJson: row.blocked_on ?? undefined,
  };
}

function rowOfSession(s: WorkflowSession): WorkflowSessionsTable {
  return { workflow_id: s.workflowId, seq: s.seq, queue: s.queue, task_id: s.taskId, state: s.state, worker: s.worker ?? null, worker_queue: s.workerQueue ?? null };
}

function sessionOfRow(row: WorkflowSessionsTable): WorkflowSession {
  return {
    workflowId: row.workflow_id,
    seq: row.seq,
    queue: row.queue,
    taskId: row.task_id,
    state: row.state as WorkflowSessionState,
    worker: row.worker ?? undefined,
    workerQueue: row.worker_queue ?? undefined,
  };
}
