/**
 * Planning an enqueue: which commands create a task, which name a live one (returned as it is:
 * producer ids are idempotency keys), and what happens to an id whose task is already final
 * (`ifExists`: reject with 409, return it, or replace it with a new run). Pure apart from the
 * store read it is handed.
 */
import {
  ConflictError,
  isFinalState,
  resolveTaskOptions,
  type DispatchCore,
  type LiveTask,
  type RoutableTask,
  type RouteRule,
  type TaskOptionsInput,
  type TaskRecord,
  type TaskState,
} from "../core/index.ts";

export type IfExists = "reject" | "return" | "new";

export interface EnqueueCommand {
  /** Producer-chosen id (idempotency key); minted when absent. */
  id?: string | undefined;
  type: string;
  inputJson: string | undefined;
  priority: number;
  fairnessKey?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  /** A task not started within this (ms) moves to `fallbackQueue`. */
  fallbackAfterMs?: number | undefined;
  fallbackQueue?: string | undefined;
  /** Timeouts and retry policy as given; defaults are filled and combinations checked here. */
  options: TaskOptionsInput;
  /** Epoch ms before which the task is not dispatched. */
  runAt?: number | undefined;
  /** Not dispatched before enqueue time + this (ms); an alternative to `runAt`. */
  delayMs?: number | undefined;
  ifExists?: IfExists | undefined;
}

export interface EnqueueOutcome {
  id: string;
  queue: string;
  type: string;
  state: TaskState;
  created: boolean;
  /** The queue a traffic rule sent the task to. */
  routedTo?: string;
}

export interface EnqueuePlan {
  newTasks: LiveTask[];
  /** Ids of final tasks that the new tasks replace (deleted in the same commit). */
  replaced: TaskRecord[];
  /** One per command, in order. */
  outcomes: EnqueueOutcome[];
  /** The new tasks whose ids the producer chose, by id (minted ids are new by construction). */
  named: Map<string, LiveTask> | undefined;
}

/** What planning reads; one object for the daemon's life, so a request builds no closures. */
export interface PlanContext {
  core: DispatchCore;
  /** The stored tasks with these ids (the final ones, when the ids name no live task). */
  readStored(ids: readonly string[]): ReadonlyMap<string, TaskRecord>;
  /** A minted id for the task that takes `seq`. */
  newTaskId(now: number, seq: number): string;
  /** Lease length of an attempt when the producer names neither startToClose nor scheduleToClose. */
  defaultStartToCloseMs: number;
  /** The traffic rule that routes a new task, if any. */
  route(queue: string, task: RoutableTask): RouteRule | undefined;
}

type Existing = { id: string; queue: string; type: string; state: TaskState; routedFrom: string | undefined };

export function planEnqueue(queue: string, commands: readonly EnqueueCommand[], now: number, context: PlanContext): EnqueuePlan {
  const plan: EnqueuePlan = { newTasks: [], replaced: [], outcomes: [], named: undefined };
  const stored = storedTasksNamedBy(commands, context);
  for (const command of commands) {
    const existing = command.id === undefined ? undefined : (plan.named?.get(command.id) ?? context.core.getLive(command.id) ?? stored?.get(command.id));
    if (existing && !replaces(existing, command)) {
      plan.outcomes.push(outcomeOfExisting(existing, queue, command));
      continue;
    }
    if (existing) plan.replaced.push(existing as TaskRecord);
    const options = resolveTaskOptions(command.options, context.defaultStartToCloseMs);
    const seq = context.core.reserveSeq();
    const id = command.id ?? context.newTaskId(now, seq);
    const rule = context.route(queue, { id, type: command.type, headers: command.headers });
    // A routed task falls back to its source queue; an unrouted one to the producer's choice.
    const fallbackQueue = rule ? queue : command.fallbackQueue;
    const fallbackAfterMs = rule ? (rule.fallbackAfterMs > 0 ? rule.fallbackAfterMs : undefined) : command.fallbackAfterMs;
    const task = context.core.createTask(
      {
        id,
        seq,
        queue: rule?.to ?? queue,
        type: command.type,
        inputJson: command.inputJson,
        priority: command.priority,
        fairnessKey: command.fairnessKey,
        headers: command.headers,
        routedFrom: rule ? queue : undefined,
        routeRuleId: rule?.id,
        fallbackQueue: fallbackAfterMs === undefined ? undefined : fallbackQueue,
        fallbackAt: fallbackAfterMs === undefined ? undefined : now + fallbackAfterMs,
        options,
        runAt: command.runAt ?? (command.delayMs === undefined ? undefined : now + command.delayMs),
      },
      now,
    );
    if (command.id !== undefined) (plan.named ??= new Map()).set(task.id, task);
    plan.newTasks.push(task);
    const outcome: EnqueueOutcome = { id: task.id, queue, type: task.type, state: task.state, created: true };
    if (rule) outcome.routedTo = rule.to;
    plan.outcomes.push(outcome);
  }
  return plan;
}

/**
 * The stored tasks named by the commands' ids that name no live task, read in one go: a batch
 * of producer ids asked the store once per id before (2-3 µs of a task's 8-12, bench/NOTES.md).
 * Planning changes nothing live, so what is live now is live when each command is planned.
 */
function storedTasksNamedBy(commands: readonly EnqueueCommand[], context: PlanContext): ReadonlyMap<string, TaskRecord> | undefined {
  let ids: string[] | undefined;
  for (const command of commands) {
    if (command.id !== undefined && context.core.getLive(command.id) === undefined) (ids ??= []).push(command.id);
  }
  return ids === undefined ? undefined : context.readStored(ids);
}

/** A final task is replaced only when the producer asked for a new run. */
function replaces(existing: Existing, command: EnqueueCommand): boolean {
  return isFinalState(existing.state) && command.ifExists === "new";
}

function outcomeOfExisting(existing: Existing, queue: string, command: EnqueueCommand): EnqueueOutcome {
  if ((existing.routedFrom ?? existing.queue) !== queue || existing.type !== command.type) {
    throw new ConflictError(`task id ${existing.id} is already used by a ${existing.type} task on queue ${existing.queue}`);
  }
  if (isFinalState(existing.state) && (command.ifExists ?? "reject") === "reject") {
    throw new ConflictError(`task ${existing.id} already ended ${existing.state}; enqueue it with ifExists "new" to start a new run, or "return" to get it back`);
  }
  return { id: existing.id, queue, type: existing.type, state: existing.state, created: false };
}
