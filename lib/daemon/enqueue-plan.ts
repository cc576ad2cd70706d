/**
 * Planning an enqueue: which commands create a task and which name one that already exists
 * (producer ids are idempotency keys). Pure apart from the store read it is handed.
 */
import { ConflictError, type DispatchCore, type LiveTask, type TaskRecord, type TaskState } from "../core/index.ts";

export interface EnqueueCommand {
  /** Producer-chosen id (idempotency key); minted when absent. */
  id?: string | undefined;
  type: string;
  inputJson: string | undefined;
  startToCloseMs: number;
}

export interface EnqueueOutcome {
  id: string;
  queue: string;
  type: string;
  state: TaskState;
  created: boolean;
}

export interface EnqueuePlan {
  newTasks: LiveTask[];
  /** One per command, in order. */
  outcomes: EnqueueOutcome[];
}

interface PlanContext {
  now: number;
  core: DispatchCore;
  readFinal(id: string): TaskRecord | undefined;
  newTaskId(): string;
}

export function planEnqueue(queue: string, commands: readonly EnqueueCommand[], context: PlanContext): EnqueuePlan {
  const newTasks: LiveTask[] = [];
  const outcomes: EnqueueOutcome[] = [];
  const inThisBatch = new Map<string, LiveTask>();
  for (const command of commands) {
    const existing = command.id === undefined ? undefined : findExisting(command.id, inThisBatch, context);
    if (existing) {
      if (existing.queue !== queue || existing.type !== command.type) {
        throw new ConflictError(`task id ${existing.id} is already used by a ${existing.type} task on queue ${existing.queue}`);
      }
      outcomes.push({ id: existing.id, queue, type: existing.type, state: existing.state, created: false });
      continue;
    }
    const task = context.core.createTask(
      { id: command.id ?? context.newTaskId(), queue, type: command.type, inputJson: command.inputJson, startToCloseMs: command.startToCloseMs },
      context.now,
    );
    inThisBatch.set(task.id, task);
    newTasks.push(task);
    outcomes.push({ id: task.id, queue, type: task.type, state: task.state, created: true });
  }
  return { newTasks, outcomes };
}

function findExisting(
  id: string,
  inThisBatch: Map<string, LiveTask>,
  context: PlanContext,
): { id: string; queue: string; type: string; state: TaskState } | undefined {
  return inThisBatch.get(id) ?? context.core.getLive(id) ?? context.readFinal(id);
}
