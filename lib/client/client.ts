/**
 * A typed fetch client for every route of the HTTP API. Used by the worker runtime, the admin
 * CLI and the tests. Idempotent calls are retried on transport failures with a short backoff;
 * calls that could create a second task (enqueue without an id) are never retried.
 */
import {
  routeHistoryResponseSchema,
  routeTableSchema,
  routeTestResponseSchema,
  describeResponseSchema,
  explainResponseSchema,
  fairnessResponseSchema,
  limitResponseSchema,
  leaveResponseSchema,
  pauseResponseSchema,
  cancelResponseSchema,
  deadListResponseSchema,
  deadPurgeResponseSchema,
  deadRequeueResponseSchema,
  enqueueBatchResponseSchema,
  enqueueResponseSchema,
  errorBodySchema,
  heartbeatResponseSchema,
  paths,
  plainEnqueueBatchResponseOf,
  plainEnqueueResponseOf,
  pollResponseSchema,
  queueListResponseSchema,
  releaseResponseSchema,
  settleBatchResponseSchema,
  settleResponseSchema,
  taskViewSchema,
  type CancelResponse,
  type RouteAddRequest,
  type RouteHistoryResponse,
  type RouteTable,
  type RouteTestResponse,
  type DescribeResponse,
  type ExplainResponse,
  type FairnessRequest,
  type LimitRequest,
  type LimitResponse,
  type PauseResponse,
  type DeadListResponse,
  type DeadPurgeRequest,
  type DeadPurgeResponse,
  type DeadRequeueRequest,
  type DeadRequeueResponse,
  type EnqueueBatchResponse,
  type EnqueueRequest,
  type EnqueueResponse,
  type HeartbeatResponse,
  type LeasedTask,
  type PollRequest,
  type QueueListResponse,
  type ReleaseItem,
  type ReleaseItemResult,
  type SettleItem,
  type SettleItemResult,
  type SettleResponse,
  type TaskError,
  type TaskView,
  type Schema,
  type SchemaOutput,
  workflowCancelResponseSchema,
  workflowExplainResponseSchema,
  workflowHistoryResponseSchema,
  workflowListResponseSchema,
  workflowSignalResponseSchema,
  workflowStartResponseSchema,
  workflowViewSchema,
  type WorkflowCancelResponse,
  type WorkflowExplainResponse,
  type WorkflowHistoryResponse,
  type WorkflowListResponse,
  type WorkflowSignalRequest,
  type WorkflowSignalResponse,
  type WorkflowStartRequest,
  type WorkflowStartResponse,
  type WorkflowState,
  type WorkflowView,
} from "../protocol/index.ts";
import { TqdApiError, TqdProtocolError, TqdUnreachableError } from "./errors.ts";
import { StreamOrHttp } from "./stream-or-http.ts";
import { WorkerStream } from "./worker-stream.ts";
// Workflow worker routes (the block "workflow worker routes" below).
import { workflowTaskCompleteResponseSchema, type WorkflowTaskCompleteRequest, type WorkflowTaskCompleteResponse } from "../protocol/index.ts";

export interface ClientOptions {
  /** Base URL such as `http://127.0.0.1:7070`. */
  baseUrl: string;
  token?: string | undefined;
  /** Transport retries for idempotent calls; 0 disables them. */
  transportRetries?: number;
  /** Delay before the first transport retry; doubles each time. */
  retryBackoffMs?: number;
  fetch?: typeof fetch;
  /**
   * `stream`: enqueue, enqueueBatch and getTask go over one WebSocket (the stream, `GET
   * /v1/worker/stream`), opened on the first call and closed after IDLE_CLOSE_MS without calls;
   * about 1.4 x the enqueues per second of HTTP (README, "Performance"). Where the server
   * refuses the upgrade they go over HTTP, and the stream is tried again after STREAM_RETRY_MS;
   * a frame over STREAM_FRAME_MAX_CHARS goes over HTTP too. Every other call is HTTP either
   * way. Default `http`.
   */
  transport?: ClientTransport;
}

export type ClientTransport = "http" | "stream";

/** A producer's stream closes after this long without calls, so a script need not close it. */
export const IDLE_CLOSE_MS = 1_000;

interface CallOptions<S extends Schema> {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  schema: S;
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** The same call over the stream, for the calls it carries. */
  overStream?: (stream: WorkerStream) => Promise<SchemaOutput<S>>;
  /** A hand check of the answer's usual shape (plainEnqueueResponseOf, say); the schema reads the rest. */
  plain?: (body: unknown) => SchemaOutput<S> | undefined;
}

export class TqdClient {
  readonly baseUrl: string;
  readonly token: string | undefined;
  private readonly transportRetries: number;
  private readonly retryBackoffMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly stream: WorkerStream | undefined;
  private readonly transport = new StreamOrHttp();

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.transportRetries = options.transportRetries ?? 2;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.fetchImpl = options.fetch ?? fetch;
    if (options.transport === "stream") this.stream = new WorkerStream({ baseUrl: this.baseUrl, token: this.token, idleCloseMs: IDLE_CLOSE_MS });
  }

  /** Closes the stream, if this client has one; later calls that would use it go over HTTP. */
  close(): void {
    this.stream?.close();
    this.transport.turnOff();
  }

  enqueue(queue: string, request: EnqueueRequest): Promise<EnqueueResponse> {
    return this.call({
      method: "POST",
      path: paths.enqueue(queue),
      body: request,
      schema: enqueueResponseSchema,
      plain: plainEnqueueResponseOf,
      idempotent: request.id !== undefined,
      overStream: (stream) => stream.enqueue(queue, request),
    });
  }

  enqueueBatch(queue: string, tasks: EnqueueRequest[]): Promise<EnqueueBatchResponse> {
    return this.call({
      method: "POST",
      path: paths.enqueueBatch(queue),
      body: { tasks },
      schema: enqueueBatchResponseSchema,
      plain: plainEnqueueBatchResponseOf,
      idempotent: tasks.every((task) => task.id !== undefined),
      overStream: (stream) => stream.enqueueBatch(queue, tasks),
    });
  }

  /** Long-polls for up to `max` tasks; resolves with an empty list when `waitMs` runs out. */
  async poll(queue: string, request: PollRequest, signal?: AbortSignal): Promise<LeasedTask[]> {
    const response = await this.call({
      method: "POST",
      path: paths.poll(queue),
      body: request,
      schema: pollResponseSchema,
      // A poll lost in transit leases tasks nobody holds; they come back after their lease.
      idempotent: false,
      signal,
    });
    return response.tasks;
  }

  complete(id: string, leaseToken: string, result?: unknown): Promise<SettleResponse> {
    return this.call({
      method: "POST",
      path: paths.complete(id),
      body: result === undefined ? { leaseToken } : { leaseToken, result },
      schema: settleResponseSchema,
      idempotent: true,
    });
  }

  fail(id: string, leaseToken: string, error: TaskError): Promise<SettleResponse> {
    return this.call({
      method: "POST",
      path: paths.fail(id),
      body: { leaseToken, error },
      schema: settleResponseSchema,
      idempotent: true,
    });
  }

  /**
   * Completes and fails several attempts in one request; each item has its own answer (a
   * stale lease is an `error` item, not a failed request). Safe to repeat, like complete.
   */
  async settleBatch(completions: SettleItem[], signal?: AbortSignal): Promise<SettleItemResult[]> {
    const response = await this.call({
      method: "POST",
      path: paths.settleBatch(),
      body: { completions },
      schema: settleBatchResponseSchema,
      idempotent: true,
      signal,
    });
    return response.results;
  }

  /**
   * Gives back leased tasks this worker will not run (see `POST /v1/tasks/release`); each item
   * has its own answer. Safe to repeat: the lease token decides.
   */
  async release(tasks: ReleaseItem[], signal?: AbortSignal): Promise<ReleaseItemResult[]> {
    const response = await this.call({ method: "POST", path: paths.release(), body: { tasks }, schema: releaseResponseSchema, idempotent: true, signal });
    return response.results;
  }

  heartbeat(id: string, leaseToken: string, details?: unknown): Promise<HeartbeatResponse> {
    return this.call({
      method: "POST",
      path: paths.heartbeat(id),
      body: details === undefined ? { leaseToken } : { leaseToken, details },
      schema: heartbeatResponseSchema,
      idempotent: true,
    });
  }

  /** Reads a task; with `waitMs`, the server holds the answer until the task is final. */
  getTask(id: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<TaskView> {
    const query = options.waitMs === undefined ? "" : `?waitMs=${options.waitMs}`;
    return this.call({
      method: "GET",
      path: paths.task(id) + query,
      schema: taskViewSchema,
      idempotent: true,
      signal: options.signal,
      overStream: (stream) => stream.getTask(id, options.waitMs, options.signal),
    });
  }

  /** Cancels a task: at once if it is not running, else when its worker stops the handler. */
  cancel(id: string, reason?: string): Promise<CancelResponse> {
    return this.call({
      method: "POST",
      path: paths.cancel(id),
      body: reason === undefined ? {} : { reason },
      schema: cancelResponseSchema,
      idempotent: true,
    });
  }

  /** Tasks of `queue` that ended failed or timed_out, oldest first. */
  deadList(queue: string, options: { limit?: number } = {}): Promise<DeadListResponse> {
    const query = options.limit === undefined ? "" : `?limit=${options.limit}`;
    return this.call({ method: "GET", path: paths.deadList(queue) + query, schema: deadListResponseSchema, idempotent: true });
  }

  /** Gives dead tasks a fresh attempt budget and makes them pending again. */
  deadRequeue(queue: string, request: DeadRequeueRequest): Promise<DeadRequeueResponse> {
    return this.call({ method: "POST", path: paths.deadRequeue(queue), body: request, schema: deadRequeueResponseSchema, idempotent: true });
  }

  /** Deletes dead tasks (older than `olderThan`, if given). */
  deadPurge(queue: string, request: DeadPurgeRequest = {}): Promise<DeadPurgeResponse> {
    return this.call({ method: "POST", path: paths.deadPurge(queue), body: request, schema: deadPurgeResponseSchema, idempotent: true });
  }

  /** Queues with counts by state; `prefix` filters by name. */
  listQueues(prefix?: string): Promise<QueueListResponse> {
    return this.call({ method: "GET", path: paths.queues(prefix), schema: queueListResponseSchema, idempotent: true });
  }

  describe(queue: string): Promise<DescribeResponse> {
    return this.call({ method: "GET", path: paths.describe(queue), schema: describeResponseSchema, idempotent: true });
  }

  /** Sets (or with `{clear: true}` removes) the queue's dispatch rate limit. */
  limit(queue: string, request: LimitRequest): Promise<LimitResponse> {
    return this.call({ method: "POST", path: paths.limit(queue), body: request, schema: limitResponseSchema, idempotent: true });
  }

  pause(queue: string): Promise<PauseResponse> {
    return this.call({ method: "POST", path: paths.pause(queue), body: {}, schema: pauseResponseSchema, idempotent: true });
  }

  resume(queue: string): Promise<PauseResponse> {
    return this.call({ method: "POST", path: paths.resume(queue), body: {}, schema: pauseResponseSchema, idempotent: true });
  }

  /** Sets a fairness key's weight and optional rate. */
  fairness(queue: string, request: FairnessRequest) {
    return this.call({ method: "POST", path: paths.fairness(queue), body: request, schema: fairnessResponseSchema, idempotent: true });
  }

  /** Tells the server this worker stopped polling `queue` (describe drops it at once). */
  leave(queue: string, identity: string, signal?: AbortSignal) {
    return this.call({ method: "POST", path: paths.leave(queue), body: { identity }, schema: leaveResponseSchema, idempotent: true, signal });
  }

  /** The queue's traffic-routing rules (with per-rule stats) and their version. */
  routes(queue: string): Promise<RouteTable> {
    return this.call({ method: "GET", path: paths.routes(queue), schema: routeTableSchema, idempotent: true });
  }

  /** Appends a rule; refused (409) when the target has no live poller unless `force`. */
  routeAdd(queue: string, request: RouteAddRequest): Promise<RouteTable> {
    return this.call({ method: "POST", path: paths.routes(queue), body: request, schema: routeTableSchema, idempotent: false });
  }

  routeRemove(queue: string, ruleId: string, expectedVersion?: number): Promise<RouteTable> {
    const body = expectedVersion === undefined ? {} : { expectedVersion };
    return this.call({ method: "POST", path: paths.routeRemove(queue, ruleId), body, schema: routeTableSchema, idempotent: false });
  }

  /** Dry run: where would a task of this type and these headers go, and by which rule. */
  routeTest(queue: string, request: { type: string; headers?: Record<string, string>; id?: string }): Promise<RouteTestResponse> {
    return this.call({ method: "POST", path: paths.routeTest(queue), body: request, schema: routeTestResponseSchema, idempotent: true });
  }

  routeHistory(queue: string): Promise<RouteHistoryResponse> {
    return this.call({ method: "GET", path: paths.routeHistory(queue), schema: routeHistoryResponseSchema, idempotent: true });
  }

  /** Makes a new version with the rules of `version`. */
  routeRollback(queue: string, request: { version: number; expectedVersion?: number; force?: boolean }): Promise<RouteTable> {
    return this.call({ method: "POST", path: paths.routeRollback(queue), body: request, schema: routeTableSchema, idempotent: false });
  }

  /** One line on what a task that is not running waits for. */
  explain(id: string): Promise<ExplainResponse> {
    return this.call({ method: "GET", path: paths.explain(id), schema: explainResponseSchema, idempotent: true });
  }

  // ---- workflow admin routes (tqd workflow ..., tqd explain) ----------------------------------

  /** Starts a workflow; with an id the request is idempotent (a running one is returned, created:false). */
  startWorkflow(request: WorkflowStartRequest): Promise<WorkflowStartResponse> {
    return this.call({
      method: "POST",
      path: workflowPath(),
      body: request,
      schema: workflowStartResponseSchema,
      idempotent: request.id !== undefined,
    });
  }

  /** Reads a workflow; with `waitMs`, the server holds the answer until it is closed. */
  getWorkflow(id: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<WorkflowView> {
    const query = options.waitMs === undefined ? "" : `?waitMs=${options.waitMs}`;
    return this.call({ method: "GET", path: workflowPath(id) + query, schema: workflowViewSchema, idempotent: true, signal: options.signal });
  }

  /** Workflows, newest first, optionally of one queue and in one state. */
  listWorkflows(filter: { queue?: string; state?: WorkflowState; limit?: number } = {}): Promise<WorkflowListResponse> {
    const query = new URLSearchParams();
    if (filter.queue !== undefined) query.set("queue", filter.queue);
    if (filter.state !== undefined) query.set("state", filter.state);
    if (filter.limit !== undefined) query.set("limit", String(filter.limit));
    const text = query.toString();
    return this.call({ method: "GET", path: workflowPath() + (text === "" ? "" : `?${text}`), schema: workflowListResponseSchema, idempotent: true });
  }

  /** The workflow's history events after event `after` (all of them without it). */
  workflowHistory(id: string, after?: number): Promise<WorkflowHistoryResponse> {
    const query = after === undefined ? "" : `?after=${after}`;
    return this.call({ method: "GET", path: workflowPath(id, "history") + query, schema: workflowHistoryResponseSchema, idempotent: true });
  }

  /** Appends a signal to the workflow's history. Not retried: a retry could deliver it twice. */
  signalWorkflow(id: string, request: WorkflowSignalRequest): Promise<WorkflowSignalResponse> {
    return this.call({ method: "POST", path: workflowPath(id, "signal"), body: request, schema: workflowSignalResponseSchema, idempotent: false });
  }

  cancelWorkflow(id: string, reason?: string): Promise<WorkflowCancelResponse> {
    const body = reason === undefined ? {} : { reason };
    return this.call({ method: "POST", path: workflowPath(id, "cancel"), body, schema: workflowCancelResponseSchema, idempotent: true });
  }

  /** What a workflow waits for: its blocked-on list and an explanation of each live task. */
  explainWorkflow(id: string): Promise<WorkflowExplainResponse> {
    return this.call({ method: "GET", path: workflowPath(id, "explain"), schema: workflowExplainResponseSchema, idempotent: true });
  }

  // ---- end of workflow admin routes -------------------------------------------------------------

  // ---- workflow worker routes (tqd work) ---------------------------------------------------------
  // The worker reads history with `workflowHistory` above.

  /**
   * Answers a workflow task with its commands. 409 when the task's lease is gone (or the
   * workflow closed meanwhile). Not retried here: the worker retries it within the lease.
   */
  completeWorkflowTask(id: string, request: WorkflowTaskCompleteRequest): Promise<WorkflowTaskCompleteResponse> {
    return this.call({ method: "POST", path: workflowPath(id, "task-complete"), body: request, schema: workflowTaskCompleteResponseSchema, idempotent: false });
  }

  // ---- end of workflow worker routes --------------------------------------------------------------

  private async call<S extends Schema>(options: CallOptions<S>): Promise<SchemaOutput<S>> {
    const retries = options.idempotent ? this.transportRetries : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(options);
      } catch (error) {
        const retryable = error instanceof TqdUnreachableError && !options.signal?.aborted;
        if (!retryable || attempt >= retries) throw error;
        await delay(this.retryBackoffMs * 2 ** attempt);
      }
    }
  }

  /** One try: over the stream when the call has a stream form and the stream is on, else HTTP. */
  private attempt<S extends Schema>(options: CallOptions<S>): Promise<SchemaOutput<S>> {
    const { stream } = this;
    const { overStream } = options;
    if (!stream || !overStream) return this.callOnce(options);
    return this.transport.call(
      () => overStream(stream),
      () => this.callOnce(options),
    );
  }

  private async callOnce<S extends Schema>(options: CallOptions<S>): Promise<SchemaOutput<S>> {
    const url = this.baseUrl + options.path;
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: options.method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new TqdUnreachableError(this.baseUrl, error);
    }
    const text = await response.text();
    const body = parseJson(text);
    if (!response.ok) {
      const parsed = errorBodySchema.safeParse(body);
      if (parsed.success) throw new TqdApiError(response.status, parsed.data.error.code, parsed.data.error.message);
      throw new TqdApiError(response.status, "internal", `HTTP ${response.status} from ${url}`);
    }
    const plain = options.plain?.(body);
    if (plain !== undefined) return plain;
    const parsed = options.schema.safeParse(body);
    if (!parsed.success) throw new TqdProtocolError(`unexpected response from ${options.method} ${options.path}`);
    return parsed.data;
  }
}

/** `/v1/workflows`, `/v1/workflows/{id}` or `/v1/workflows/{id}/{action}`; the id is percent-encoded. */
function workflowPath(id?: string, action?: string): string {
  const base = id === undefined ? "/v1/workflows" : `/v1/workflows/${encodeURIComponent(id)}`;
  return action === undefined ? base : `${base}/${action}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
