/**
 * What the store keeps of a workflow execution, apart from its event history: the execution
 * row, the links from tasks to the execution they serve, its sessions and its timers. Times are
 * epoch ms; JSON fields hold raw text.
 */

export type WorkflowRecordState = "running" | "completed" | "failed" | "canceled";

export interface WorkflowRecord {
  id: string;
  type: string;
  queue: string;
  state: WorkflowRecordState;
  inputJson: string | undefined;
  resultJson: string | undefined;
  /** `{type, message}` of a failed workflow. */
  errorJson: string | undefined;
  createdAt: number;
  closedAt: number | undefined;
  /** Id of the last event in the history (events are numbered from 1). */
  lastEventId: number;
  /** Events up to this id are handled (seen by a completed workflow task, or its own commands): later ones need a workflow task. */
  seenUpTo: number;
  /** Seed of the workflow's replay-safe random numbers. */
  randomSeed: number;
  /** How long a workflow task waits for the worker holding the execution in its cache (ms). */
  stickyTimeoutMs: number;
  /** The worker that completed the last workflow task: the next one goes to its worker queue. */
  stickyWorker: string | undefined;
  /** The workflow task waiting or running, if any. */
  taskId: string | undefined;
  /** Workflow tasks that ended without completing since the last completed one (backoff, describe). */
  taskFailures: number;
  /** `{type, message}` of the last workflow task that failed (a nondeterminism, say). */
  lastTaskErrorJson: string | undefined;
  /** What the workflow code waits for, in words, as the last worker reported it (JSON array). */
  blockedOnJson: string | undefined;
}

export type WorkflowLinkKind = "workflowTask" | "activity" | "session";

/** A live task that serves a workflow: its end becomes an event of that workflow. */
export interface WorkflowLink {
  taskId: string;
  workflowId: string;
  kind: WorkflowLinkKind;
  /** The command seq (activities and sessions); 0 for workflow tasks. */
  seq: number;
  /** The session an activity runs in (its createSession seq). */
  session: number | undefined;
  /** Activity type, for describe. */
  type: string;
}

export type WorkflowSessionState = "requested" | "open" | "completed" | "failed";

export interface WorkflowSession {
  workflowId: string;
  seq: number;
  queue: string;
  /** The holder task that keeps a slot on the session's worker. */
  taskId: string;
  state: WorkflowSessionState;
  worker: string | undefined;
  /** Where the session's activities go: the holder's worker queue. */
  workerQueue: string | undefined;
}

export interface WorkflowTimer {
  workflowId: string;
  seq: number;
  fireAt: number;
}

/** One history event as stored: the wire event's fields apart from id and time, as JSON. */
export interface StoredWorkflowEvent {
  workflowId: string;
  id: number;
  at: number;
  kind: string;
  bodyJson: string;
}
