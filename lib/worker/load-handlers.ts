/**
 * Loads the user's handlers module at run time. A Bun runtime plugin serves the virtual module
 * `tqd` (the exports of handler-api.ts) before the dynamic import, so `import { defineHandlers }
 * from "tqd"` resolves both from source and inside the compiled binary, where no node_modules
 * exist. The module's shape is checked with zod so a wrong file fails at start, naming the file.
 */
import { resolve } from "node:path";
import * as z from "zod";
import { LIMITS, TASK_TYPE_PATTERN } from "../protocol/index.ts";
import { defineHandlers, NonRetryableError, TaskAbortedError, type Handler, type HandlerMap } from "./handler-api.ts";

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

const handlerMapSchema = z
  .record(
    z.string().regex(TASK_TYPE_PATTERN, "handler names are task types: 1-255 characters of A-Z a-z 0-9 . _ - : @ /"),
    z.custom<Handler>((value) => typeof value === "function", "a handler must be a function"),
  )
  .refine((handlers) => Object.keys(handlers).length > 0, "the module exports no handlers")
  .refine((handlers) => Object.keys(handlers).length <= LIMITS.pollTypes, `a worker handles at most ${LIMITS.pollTypes} task types`);

let virtualModuleRegistered = false;

/** Makes `import ... from "tqd"` resolve to the handler API; safe to call more than once. */
export function registerTqdModule(): void {
  if (virtualModuleRegistered) return;
  virtualModuleRegistered = true;
  Bun.plugin({
    name: "tqd-handler-api",
    setup(build) {
      build.module("tqd", () => ({ exports: { defineHandlers, NonRetryableError, TaskAbortedError }, loader: "object" }));
    },
  });
}

/** Imports the handlers module at `path` (relative to `cwd`) and returns its handlers by task type. */
export async function loadHandlers(path: string, cwd: string): Promise<HandlerMap> {
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
  return handlersFromModule(namespace, absolutePath);
}

/**
 * A default-exported object is the handler map; without one, the module's exported functions
 * are (other named exports, such as constants, are ignored).
 */
export function handlersFromModule(namespace: Record<string, unknown>, path: string): HandlerMap {
  const fallback = namespace.default;
  const candidate =
    typeof fallback === "object" && fallback !== null
      ? fallback
      : Object.fromEntries(Object.entries(namespace).filter(([name, value]) => name !== "default" && typeof value === "function"));
  const parsed = handlerMapSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `handler "${issue.path.join(".")}": ` : "";
    throw new HandlerModuleError(path, "shape", `${where}${issue?.message ?? "invalid handlers"}; ${SHAPE_HINT}`);
  }
  return Object.freeze({ ...parsed.data });
}
