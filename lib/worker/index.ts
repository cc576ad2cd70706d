/** The `tqd work` runtime: handler loading, the poll loops, leases, and the --exec handler. */
export { defineHandlers, TaskAbortedError, type Handler, type HandlerMap, type TaskAbortCause, type TaskContext } from "./handler-api.ts";
export { HandlerModuleError, handlersFromModule, loadHandlers, registerTqdModule, type HandlerModuleProblem } from "./load-handlers.ts";
export { ExitCodeError, KILL_GRACE_MS, shellHandler, STDERR_TAIL_BYTES, type ShellHandlerOptions } from "./run-shell.ts";
export { isLeaseLost, type WorkerClient } from "./worker-client.ts";
export {
  createWorker,
  DEFAULT_CONCURRENCY,
  DEFAULT_GRACE_MS,
  FINAL_REPORT_MS,
  type StopOptions,
  type StopReport,
  type Worker,
  type WorkerOptions,
} from "./worker.ts";
