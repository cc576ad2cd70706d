/**
 * Runs one workflow task (`tqd.workflow:<Type>`): gets the execution (from the sticky cache, or
 * by replaying the history), runs the next activation, and answers with its commands
 * (`POST /v1/workflows/{id}/task-complete`). A replay that does not match the history fails the
 * task with the error type `nondeterminism`; any other error fails it with its own. The server
 * retries failed workflow tasks (with backoff, on the workflow's queue) while the workflow runs.
 *
 * Modes, as the answer reports them (and /metrics counts): `cached` continues the execution this
 * worker kept after its last answer, fetching only the events after its `seenUpTo`; `fresh` is
 * a first run (the history has no answered workflow task yet); `replay` runs the code again
 * from the whole history. A cached execution that does not fit the new events (another worker
 * answered meanwhile, or anything is off) is dropped and the workflow replays.
 */
import { TqdUnreachableError } from "../../client/index.ts";
import { workflowTaskInputSchema, type LeasedTask, type TaskError, type WorkflowEvent, type WorkflowState, type WorkflowTaskMode } from "../../protocol/index.ts";
import { backoffDelayMs } from "../backoff.ts";
import { reportOutcome, type ReportDeps } from "../report-outcome.ts";
import { describeError, taskError, taskErrorFrom } from "../task-outcome.ts";
import { isLeaseLost } from "../worker-client.ts";
import type { ExecutionCache } from "./execution-cache.ts";
import { ExecutionReplay, type Activation } from "./execution-replay.ts";
import { NondeterminismError, type Workflow, type WorkflowMap } from "./workflow-api.ts";

export interface WorkflowTaskDeps extends ReportDeps {
  workflows: WorkflowMap;
  cache: ExecutionCache;
  /** Aborted when the shutdown grace period ends: retries against an unreachable server stop. */
  abandon: AbortSignal;
}

/** A history read to its end: every event after the `after` asked for. */
interface History {
  state: WorkflowState;
  lastEventId: number;
  events: WorkflowEvent[];
}

type Produced = { kind: "answer"; replay: ExecutionReplay; activation: Activation; mode: WorkflowTaskMode } | { kind: "closed"; state: WorkflowState };

/** Runs `task` to an answer or a failure report; never rejects. */
export async function runWorkflowTask(task: LeasedTask, deps: WorkflowTaskDeps): Promise<void> {
  const input = workflowTaskInputSchema.safeParse(task.input);
  if (!input.success) {
    await fail(task, taskError("InvalidWorkflowTask", "the workflow task's input is not {workflowId, workflowType}"), deps);
    return;
  }
  const { workflowId, workflowType } = input.data;
  const workflow = Object.hasOwn(deps.workflows, workflowType) ? deps.workflows[workflowType] : undefined;
  if (workflow === undefined) {
    await fail(task, taskError("UnknownWorkflowType", `this worker has no workflow "${workflowType}"`), deps);
    return;
  }
  await deps.cache.exclusive(workflowId, () => runExclusively(task, workflowId, workflowType, workflow, deps));
}

/** Runs the task with no other task of its workflow running on this worker (see ExecutionCache). */
async function runExclusively(task: LeasedTask, workflowId: string, workflowType: string, workflow: Workflow, deps: WorkflowTaskDeps): Promise<void> {
  const fields = { taskId: task.id, workflowId, workflowType, attempt: task.attempt };
  const leaseDeadlineMs = () => Date.parse(task.leaseDeadline) || deps.clock.now();
  let produced: Produced;
  try {
    produced = await produce(task, workflowId, workflowType, workflow, deps);
  } catch (error) {
    deps.cache.delete(workflowId);
    if (isLeaseLost(error)) {
      deps.log.warn("workflow task is no longer ours; dropped", { ...fields, error: describeError(error) });
      return;
    }
    if (error instanceof TqdUnreachableError) {
      deps.log.warn("gave up on the workflow task: the server could not be reached; it retries the task after its lease", fields);
      return;
    }
    const failure = error instanceof NondeterminismError ? taskError("nondeterminism", error.message) : plainError(error);
    deps.log.warn("workflow task failed", { ...fields, error: `${failure.type}: ${failure.message}` });
    await fail(task, failure, deps);
    return;
  }
  if (produced.kind === "closed") {
    // The server cancels a closed workflow's task; failing it ends the lease at once.
    deps.log.debug("workflow task for a closed workflow", { ...fields, state: produced.state });
    await fail(task, taskError("WorkflowClosed", `workflow ${workflowId} is already ${produced.state}`), deps);
    return;
  }
  await answer(task, workflowId, produced, leaseDeadlineMs, deps);
}

async function produce(task: LeasedTask, workflowId: string, workflowType: string, workflow: Workflow, deps: WorkflowTaskDeps): Promise<Produced> {
  const cached = deps.cache.take(workflowId);
  if (cached) {
    const misuse = cached.replay.execution.misuse;
    try {
      if (misuse !== undefined) throw new Error(misuse);
      const history = await readHistory(task, workflowId, cached.replay.seenUpTo, deps);
      if (history.state !== "running") return { kind: "closed", state: history.state };
      if (history.lastEventId < cached.lastEventId) throw new Error(`the history ends at ${history.lastEventId}, before ${cached.lastEventId}`);
      const activation = await cached.replay.advance(history.events, { continuing: true });
      deps.log.debug("workflow task answered from the cache", { workflowId, newEvents: history.events.length });
      return { kind: "answer", replay: cached.replay, activation, mode: "cached" };
    } catch (error) {
      if (isLeaseLost(error) || error instanceof TqdUnreachableError) throw error;
      deps.log.debug("cached workflow state does not fit its history; replaying", { workflowId, reason: describeError(error) });
    }
  }
  const history = await readHistory(task, workflowId, 0, deps);
  if (history.state !== "running") return { kind: "closed", state: history.state };
  const replay = new ExecutionReplay(workflowId, workflowType, workflow);
  const activation = await replay.advance(history.events, { continuing: false });
  const mode: WorkflowTaskMode = history.events.some((event) => event.kind === "workflowTask.completed") ? "replay" : "fresh";
  deps.log.debug(mode === "replay" ? "workflow replayed from its history" : "workflow started", { workflowId, events: history.events.length });
  return { kind: "answer", replay, activation, mode };
}

/** Sends the activation's commands; keeps the execution for the next task if the workflow runs on. */
async function answer(task: LeasedTask, workflowId: string, produced: Extract<Produced, { kind: "answer" }>, leaseDeadlineMs: () => number, deps: WorkflowTaskDeps): Promise<void> {
  const { activation, mode, replay } = produced;
  const fields = { taskId: task.id, workflowId, mode, commands: activation.commands.length };
  try {
    const response = await withinLease(task, deps, () =>
      deps.client.completeWorkflowTask(workflowId, {
        taskId: task.id,
        leaseToken: task.leaseToken,
        seenUpTo: activation.seenUpTo,
        commands: activation.commands,
        mode,
        blockedOn: activation.blockedOn,
      }),
    );
    deps.health.markReachable();
    if (response.state === "running" && !activation.closes) deps.cache.put(workflowId, { replay, lastEventId: response.lastEventId });
    else deps.cache.delete(workflowId);
    deps.log.debug("workflow task answered", { ...fields, state: response.state });
  } catch (error) {
    deps.cache.delete(workflowId);
    if (isLeaseLost(error)) {
      deps.log.warn("the server refused the workflow task's answer: the lease is gone or the workflow closed", { ...fields, error: describeError(error) });
    } else if (error instanceof TqdUnreachableError) {
      deps.log.warn("gave up answering the workflow task; the server retries it after its lease", fields);
    } else {
      // e.g. a 400 for a command the server will not take: the task fails so describe shows why.
      deps.log.warn("the server refused the workflow task's answer", { ...fields, error: describeError(error) });
      await reportOutcome(task, { ok: false, error: taskError("InvalidWorkflowAnswer", describeError(error)) }, leaseDeadlineMs, deps);
    }
  }
}

/** Reads the history after event `after` to its end, page by page. */
async function readHistory(task: LeasedTask, workflowId: string, after: number, deps: WorkflowTaskDeps): Promise<History> {
  const events: WorkflowEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await withinLease(task, deps, () => deps.client.workflowHistory(workflowId, cursor));
    events.push(...page.events);
    const last = page.events.at(-1)?.id;
    if (last === undefined || last >= page.lastEventId) return { state: page.state, lastEventId: page.lastEventId, events };
    cursor = last;
  }
}

/**
 * Calls `call`, retrying with backoff while the server cannot be reached, until the task's
 * lease runs out (the server then re-queues the task) or the worker gives up at shutdown.
 */
async function withinLease<T>(task: LeasedTask, deps: WorkflowTaskDeps, call: () => Promise<T>): Promise<T> {
  const deadlineMs = Date.parse(task.leaseDeadline);
  for (let failures = 0; ; failures++) {
    try {
      const result = await call();
      deps.health.markReachable();
      return result;
    } catch (error) {
      if (!(error instanceof TqdUnreachableError)) throw error;
      deps.health.markUnreachable(error);
      const stop = AbortSignal.any([deps.giveUp, deps.abandon]);
      if (!(deps.clock.now() < deadlineMs) || stop.aborted) throw error;
      await deps.clock.sleep(backoffDelayMs(failures, deps.random), stop);
    }
  }
}

function fail(task: LeasedTask, error: TaskError, deps: WorkflowTaskDeps): Promise<void> {
  return reportOutcome(task, { ok: false, error }, () => Date.parse(task.leaseDeadline) || deps.clock.now(), deps);
}

/** The thrown error as a task error, without `nonRetryable`: workflow tasks always retry. */
function plainError(error: unknown): TaskError {
  const { type, message } = taskErrorFrom(error);
  return { type, message };
}
