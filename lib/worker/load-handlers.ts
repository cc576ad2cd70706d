/**
 * Loads the user's handlers module at run time. A Bun runtime plugin serves the virtual module
 * `tqd` (the exports of handler-api.ts) before the dynamic import, so `import { defineHandlers }
 * from "tqd"` resolves both from source and inside the compiled binary, where no node_modules
 * exist. The module's shape is checked with zod so a wrong file fails at start, naming the file.
 *
 * Besides its task handlers, a module may export `workflows` (workflow type -> workflow
 * function, see workflow/workflow-api.ts); that export is never taken for a handler.
 */
import { resolve } from "node:path";
import * as z from "zod";
import { handChecked, isProducerTaskType, lazySchema, LIMITS, RESERVED_TYPE_PREFIX, TASK_TYPE_PATTERN, WORKFLOW_TYPE_PATTERN, workflowTypeSchema as workflowTypeContract } from "../protocol/index.ts";
import {
  ActivityFailedError,
  defineHandlers,
  defineWorkflows,
  NondeterminismError,
  NonRetryableError,
  SessionFailedError,
  TaskAbortedError,
  type Handler,
  type HandlerMap,
  type Workflow,
  type WorkflowMap,
} from "./handler-api.ts";

/** Why a handlers module cannot be used: "missing" and "shape" are usage errors, "import" is the module's own failure. */
export type HandlerModuleProblem = "missing" | "import" | "shape";

export class HandlerModuleError extends Error {
  override readonly name = "HandlerModuleError";
  constructor(
    readonly path: string,
    readonly problem: HandlerModuleProblem,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

const SHAPE_HINT = 'expected `export default defineHandlers({ myType: async (input, ctx) => result })` or exported async functions';
const WORKFLOWS_HINT = "expected `export const workflows = defineWorkflows({ myWorkflow: async (ctx, input) => result })`";
/** Polls name every handler and workflow type, plus `tqd.session` on base queues. */
const MAX_TYPES = LIMITS.pollTypes - 1;

/** What a handlers module provides. */
export interface WorkerModule {
  handlers: HandlerMap;
  /** Empty when the module exports no `workflows`. */
  workflows: WorkflowMap;
}

// Checked by hand first, zod only for a module that fails (its words name the problem): a
// worker's start then builds none of these (about 3 ms of it, cold).
const handlerNameSchema = handChecked(
  lazySchema(() =>
    z
      .string()
      .regex(TASK_TYPE_PATTERN, "handler names are task types: 1-255 characters of A-Z a-z 0-9 . _ - : @ /")
      .refine((name) => !name.startsWith(RESERVED_TYPE_PREFIX), `task types starting with "${RESERVED_TYPE_PREFIX}" are the daemon's own`),
  ),
  (value) => (isProducerTaskType(value) ? value : undefined),
);
const handlerMapSchema = handChecked(
  lazySchema(() => z.record(z.string(), z.custom<Handler>((value) => typeof value === "function", "a handler must be a function"))),
  (value) => (isMapOfFunctions(value) ? (value as HandlerMap) : undefined),
);

const workflowTypeSchema = handChecked(workflowTypeContract, (value) => (typeof value === "string" && WORKFLOW_TYPE_PATTERN.test(value) ? value : undefined));
const workflowMapSchema = handChecked(
  lazySchema(() => z.record(z.string(), z.custom<Workflow>((value) => typeof value === "function", "a workflow must be a function"))),
  (value) => (isMapOfFunctions(value) ? (value as WorkflowMap) : undefined),
);

/** A plain object of functions by string key, which the records accept as it is; anything else goes to zod. */
function isMapOfFunctions(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  if ((prototype !== Object.prototype && prototype !== null) || Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.keys(value)) if (typeof (value as Record<string, unknown>)[key] !== "function") return false;
  return true;
}

let virtualModuleRegistered = false;

/** Makes `import ... from "tqd"` resolve to the handler API; safe to call more than once. */
export function registerTqdModule(): void {
  if (virtualModuleRegistered) return;
  virtualModuleRegistered = true;
  Bun.plugin({
    name: "tqd-handler-api",
    setup(build) {
      build.module("tqd", () => ({
        exports: { defineHandlers, NonRetryableError, TaskAbortedError, defineWorkflows, ActivityFailedError, SessionFailedError, NondeterminismError },
        loader: "object",
      }));
    },
  });
}

/** Imports the handlers module at `path` (relative to `cwd`) and returns its handlers by task type. */
export async function loadHandlers(path: string, cwd: string): Promise<HandlerMap> {
  return (await loadWorkerModule(path, cwd)).handlers;
}

/** Imports the handlers module at `path` (relative to `cwd`): its handlers and its workflows. */
export async function loadWorkerModule(path: string, cwd: string): Promise<WorkerModule> {
  const absolutePath = resolve(cwd, path);
  if (!(await Bun.file(absolutePath).exists())) {
    throw new HandlerModuleError(absolutePath, "missing", "no such file");
  }
  registerTqdModule();
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(absolutePath);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new HandlerModuleError(absolutePath, "import", `failed to load: ${reason}`);
  }
  return workerModuleFrom(namespace, absolutePath);
}

/** The handlers of a module's namespace (see handlersOf); throws when it has neither handlers nor workflows. */
export function handlersFromModule(namespace: Record<string, unknown>, path: string): HandlerMap {
  return workerModuleFrom(namespace, path).handlers;
}

/** A module's handlers and workflows, checked: at least one of either, at most MAX_TYPES in all. */
export function workerModuleFrom(namespace: Record<string, unknown>, path: string): WorkerModule {
  const handlers = handlersOf(namespace, path);
  const workflows = workflowsOf(namespace, path);
  const count = Object.keys(handlers).length + Object.keys(workflows).length;
  if (count === 0) throw new HandlerModuleError(path, "shape", `the module exports no handlers and no workflows; ${SHAPE_HINT}`);
  if (count > MAX_TYPES) throw new HandlerModuleError(path, "shape", `a worker handles at most ${MAX_TYPES} task types and workflows, the module has ${count}`);
  return { handlers, workflows };
}

/**
 * A default-exported object is the handler map; without one, the module's exported functions
 * are (other named exports, such as constants and `workflows`, are ignored).
 */
function handlersOf(namespace: Record<string, unknown>, path: string): HandlerMap {
  const fallback = namespace.default;
  const candidate =
    typeof fallback === "object" && fallback !== null
      ? fallback
      : Object.fromEntries(Object.entries(namespace).filter(([name, value]) => name !== "default" && name !== "workflows" && typeof value === "function"));
  if (Object.hasOwn(candidate, "workflows") && typeof (candidate as Record<string, unknown>).workflows !== "function") {
    throw new HandlerModuleError(path, "shape", `the default export has a "workflows" key; export workflows by name instead: ${WORKFLOWS_HINT}`);
  }
  checkNames(candidate, handlerNameSchema, "handler", path, SHAPE_HINT);
  const parsed = handlerMapSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `handler "${issue.path.join(".")}": ` : "";
    throw new HandlerModuleError(path, "shape", `${where}${issue?.message ?? "invalid handlers"}; ${SHAPE_HINT}`);
  }
  return Object.freeze({ ...parsed.data });
}

/** The `workflows` export: an object of workflow functions by workflow type. */
function workflowsOf(namespace: Record<string, unknown>, path: string): WorkflowMap {
  const exported = namespace.workflows;
  if (exported === undefined) return Object.freeze({});
  if (typeof exported !== "object" || exported === null) throw new HandlerModuleError(path, "shape", `"workflows" must be an object; ${WORKFLOWS_HINT}`);
  checkNames(exported, workflowTypeSchema, "workflow", path, WORKFLOWS_HINT);
  const parsed = workflowMapSchema.safeParse(exported);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `workflow "${issue.path.join(".")}": ` : "";
    throw new HandlerModuleError(path, "shape", `${where}${issue?.message ?? "invalid workflows"}; ${WORKFLOWS_HINT}`);
  }
  return Object.freeze({ ...parsed.data });
}

// Names are checked one by one: a record's key error does not carry the grammar's message.
function checkNames(map: object, schema: z.ZodType<string>, what: string, path: string, hint: string): void {
  for (const name of Object.keys(map)) {
    const checked = schema.safeParse(name);
    if (!checked.success) throw new HandlerModuleError(path, "shape", `${what} "${name}": ${checked.error.issues[0]?.message ?? "invalid name"}; ${hint}`);
  }
}
