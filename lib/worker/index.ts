/** The `tqd work` runtime: handler loading, the poll loops, leases, and the --exec handler. */
export {
  ActivityFailedError,
  defineHandlers,
  defineWorkflows,
  NondeterminismError,
  NonRetryableError,
  SessionFailedError,
  TaskAbortedError,
  type ActivityEndState,
  type Handler,
  type HandlerMap,
  type NonRetryableErrorOptions,
  type Session,
  type TaskAbortCause,
  type TaskContext,
  type Workflow,
  type WorkflowContext,
  type WorkflowMap,
} from "./handler-api.ts";
export { DEFAULT_HEARTBEAT_THROTTLE_MS, HEARTBEAT_THROTTLE_RATIO, heartbeatThrottleMs, MAX_HEARTBEAT_THROTTLE_MS } from "./heartbeat-throttle.ts";
export {
  HandlerModuleError,
  handlersFromModule,
  loadHandlers,
  loadWorkerModule,
  registerTqdModule,
  workerModuleFrom,
  type HandlerModuleProblem,
  type WorkerModule,
} from "./load-handlers.ts";
export { ExitCodeError, KILL_GRACE_MS, NON_RETRYABLE_EXIT_CODE, shellHandler, STDERR_TAIL_BYTES, type ShellHandlerOptions } from "./run-shell.ts";
export { IDLE_TURN_MS, SHARED_POLL_WAIT_MS } from "./slot-pool.ts";
export { TaskRateLimit } from "./task-rate-limit.ts";
export { isLeaseLost, type WorkerClient } from "./worker-client.ts";
export { DEFAULT_WORKFLOW_CACHE_SIZE, ExecutionCache } from "./workflow/execution-cache.ts";
export { CachedStateMismatch, ExecutionReplay, InvalidHistoryError, type Activation } from "./workflow/execution-replay.ts";
export { MIN_SESSION_HEARTBEAT_MS } from "./workflow/session-holders.ts";
export { RELEASE_TIMEOUT_MS } from "./task-release.ts";
export {
  createWorker,
  DEFAULT_CONCURRENCY,
  DEFAULT_GRACE_MS,
  FINAL_REPORT_MS,
  LEAVE_TIMEOUT_MS,
  POLL_RETURN_MS,
  type StopOptions,
  type StopReport,
  type Worker,
  type WorkerOptions,
} from "./worker.ts";
export { StreamingWorkerClient } from "./streaming-client.ts";
