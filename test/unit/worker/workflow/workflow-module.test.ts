import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, resolveWorkConfig, type WorkFlags } from "../../../../lib/config/index.ts";
import { HandlerModuleError, loadWorkerModule, workerModuleFrom } from "../../../../lib/worker/index.ts";
import { tempDir } from "../../../support/temp-dir.ts";

function shapeError(namespace: Record<string, unknown>): string {
  try {
    workerModuleFrom(namespace, "/m.ts");
  } catch (error) {
    if (error instanceof HandlerModuleError && error.problem === "shape") return error.message;
    throw error;
  }
  throw new Error("expected a shape error");
}

const fn = async () => undefined;

describe("a handlers module with workflows", () => {
  it("takes `workflows` as the workflow map, never as a handler, beside a default export or exported functions", () => {
    const named = workerModuleFrom({ resize: fn, workflows: { fileProcessing: fn, "v2.file-proc_x": fn } }, "/m.ts");
    expect(Object.keys(named.handlers)).toEqual(["resize"]);
    expect(Object.keys(named.workflows)).toEqual(["fileProcessing", "v2.file-proc_x"]);
    const byDefault = workerModuleFrom({ default: { resize: fn }, workflows: { wf: fn } }, "/m.ts");
    expect(Object.keys(byDefault.handlers)).toEqual(["resize"]);
    expect(Object.keys(workerModuleFrom({ workflows: { wf: fn } }, "/m.ts").handlers)).toEqual([]);
    expect(workerModuleFrom({ resize: fn }, "/m.ts").workflows).toEqual({});
  });

  it("names what is wrong with the workflows export", () => {
    expect(shapeError({ workflows: { "bad name": fn } })).toContain('workflow "bad name": workflow types are 1-200 characters');
    expect(shapeError({ workflows: { wf: 3 } })).toContain('workflow "wf": a workflow must be a function');
    expect(shapeError({ workflows: 3 })).toContain('"workflows" must be an object');
    expect(shapeError({ default: { greet: fn, workflows: { wf: fn } } })).toContain("export workflows by name instead");
    expect(shapeError({ workflows: {} })).toContain("exports no handlers and no workflows");
    expect(shapeError({ "tqd.session": fn })).toContain('task types starting with "tqd." are the daemon\'s own');
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, n) => [`t${n}`, fn]));
    expect(shapeError({ default: many })).toContain("at most 99 task types and workflows");
  });

  // The virtual module `tqd` is served by a Bun runtime plugin that vitest's loader bypasses, so
  // this loads the module in a plain Bun process, as `bun cmd/tqd.ts` and the binary do.
  it("serves defineWorkflows and the workflow errors from the virtual module tqd", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "handlers.ts");
    await writeFile(
      path,
      `import { defineHandlers, defineWorkflows, ActivityFailedError, SessionFailedError, NondeterminismError } from "tqd";
       export default defineHandlers({ noop: async () => null });
       export const workflows = defineWorkflows({
         wf: async (ctx, input: { n: number }) => [typeof ActivityFailedError, typeof SessionFailedError, new NondeterminismError("x").name, input.n],
       });`,
    );
    const root = resolve(import.meta.dirname, "../../../..");
    const script = `
      import { loadWorkerModule } from "./lib/worker/load-handlers.ts";
      const loaded = await loadWorkerModule(${JSON.stringify(path)}, "/");
      console.log(JSON.stringify([Object.keys(loaded.handlers), Object.keys(loaded.workflows), await loaded.workflows.wf({}, { n: 7 })]));`;
    const child = Bun.spawn([process.execPath, "-e", script], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual([["noop"], ["wf"], ["function", "function", "NondeterminismError", 7]]);
  });

  it("loads a module that exports only workflows", async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "only.ts"), "export const workflows = { wf: async () => 1 };");
    const loaded = await loadWorkerModule("only.ts", dir.path);
    expect(Object.keys(loaded.workflows)).toEqual(["wf"]);
  });
});

function resolveFlags(flags: WorkFlags) {
  return resolveWorkConfig({ handlersPath: "h.ts", flags: { queue: ["q"], ...flags }, env: {}, defaultIdentity: "h:1", defaultHost: "h" });
}

describe("--workflow-cache and --max-sessions", () => {
  it("default to 500 and 1000; 0 turns each off", () => {
    expect(resolveFlags({})).toMatchObject({ workflowCacheSize: 500, maxSessions: 1_000 });
    expect(resolveFlags({ workflowCache: "0", maxSessions: "0" })).toMatchObject({ workflowCacheSize: 0, maxSessions: 0 });
    expect(resolveFlags({ workflowCache: "20", maxSessions: "3" })).toMatchObject({ workflowCacheSize: 20, maxSessions: 3 });
  });

  it("name the flag at fault", () => {
    for (const [flags, flag] of [
      [{ workflowCache: "-1" }, "--workflow-cache"],
      [{ workflowCache: "lots" }, "--workflow-cache"],
      [{ maxSessions: "1001" }, "--max-sessions"],
      [{ maxSessions: "1.5" }, "--max-sessions"],
    ] as const) {
      const error = (() => {
        try {
          resolveFlags(flags);
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).flag).toBe(flag);
      expect((error as Error).message).toContain(flag);
    }
  });
});
