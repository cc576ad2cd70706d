import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { handlersFromModule, HandlerModuleError, loadHandlers, workerModuleFrom, type TaskContext } from "../../../lib/worker/index.ts";
import { tempDir } from "../../support/temp-dir.ts";

const ctx = { attempt: 2 } as TaskContext;

async function moduleError(promise: Promise<unknown>): Promise<HandlerModuleError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof HandlerModuleError)) throw new Error(`expected a HandlerModuleError, got ${String(error)}`);
  return error;
}

describe("loadHandlers", () => {
  it("takes the exported functions of a module without a default export, ignoring other exports", async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "named.ts"), `export const retries = 3;\nexport async function resize(input: number) { return input * 2; }`);
    const handlers = await loadHandlers(join(dir.path, "named.ts"), "/");
    expect(Object.keys(handlers)).toEqual(["resize"]);
    expect(await handlers.resize!(21, ctx)).toBe(42);
  });

  // `import ... from "tqd"` is served by the Bun runtime plugin, which vitest's module loader
  // bypasses; so these run loadHandlers in a plain Bun process, as `bun cmd/tqd.ts` and the
  // binary do. The temp file lies outside the repository, where no tsconfig paths apply.
  it("loads modules that import the virtual module tqd, including the hello example", async () => {
    await using dir = await tempDir();
    const custom = join(dir.path, "handlers.ts");
    await writeFile(
      custom,
      `import { defineHandlers, NonRetryableError, TaskAbortedError } from "tqd";
       export default defineHandlers({
         greet: async (input: { name: string }, ctx) => \`hi \${input.name} #\${ctx.attempt}\`,
         abortType: async () => typeof TaskAbortedError,
         final: async () => new NonRetryableError("no", { type: "Final" }),
       });`,
    );
    const root = resolve(import.meta.dirname, "../../..");
    const script = `
      import { loadHandlers } from "./lib/worker/load-handlers.ts";
      const ctx = { attempt: 2 };
      const custom = await loadHandlers(${JSON.stringify(custom)}, "/");
      const hello = await loadHandlers("examples/hello/handlers.ts", process.cwd());
      console.log(JSON.stringify({
        custom: [Object.keys(custom), await custom.greet({ name: "Ada" }, ctx), await custom.abortType(), await custom.final().then((e) => [e.name, e.nonRetryable])],
        hello: [Object.keys(hello), await hello.greet({ name: "Ada" }, ctx)],
      }));`;
    const child = Bun.spawn([process.execPath, "-e", script], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      custom: [["greet", "abortType", "final"], "hi Ada #2", "function", ["Final", true]],
      hello: [["greet", "countdown"], { greeting: "Hello, Ada!", attempt: 2 }],
    });
  });

  it("names the file when it does not exist", async () => {
    await using dir = await tempDir();
    const error = await moduleError(loadHandlers("nope.ts", dir.path));
    expect(error.problem).toBe("missing");
    expect(error.message).toContain(join(dir.path, "nope.ts"));
  });

  it("names the file when it exports no handlers", async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "empty.ts"), "export const answer = 42;");
    const error = await moduleError(loadHandlers("empty.ts", dir.path));
    expect(error.problem).toBe("shape");
    expect(error.message).toContain("empty.ts");
    expect(error.message).toContain("exports no handlers");
  });

  it("names a default-exported entry that is not a function", async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "bad.ts"), "export default { greet: async () => 1, retries: 3 };");
    const error = await moduleError(loadHandlers("bad.ts", dir.path));
    expect(error.message).toContain('handler "retries"');
  });

  it("names a handler or workflow whose name the protocol refuses, and takes a plain map as it is", () => {
    const fn = async () => 1;
    const shapeError = (build: () => unknown) => {
      try {
        build();
      } catch (error) {
        if (error instanceof HandlerModuleError && error.problem === "shape") return error.message;
        throw error;
      }
      throw new Error("expected a shape error");
    };
    expect(shapeError(() => handlersFromModule({ default: { "bad name": fn } }, "m.ts"))).toMatch(/handler "bad name": handler names are task types/);
    expect(shapeError(() => handlersFromModule({ default: { "tqd.own": fn } }, "m.ts"))).toMatch(/handler "tqd.own": task types starting with "tqd." are the daemon's own/);
    expect(shapeError(() => workerModuleFrom({ default: { ok: fn }, workflows: { "no/slash": fn } }, "m.ts"))).toMatch(/workflow "no\/slash": workflow types are 1-200 characters/);
    expect(shapeError(() => workerModuleFrom({ default: { ok: fn }, workflows: { flow: 3 } }, "m.ts"))).toMatch(/workflow "flow": a workflow must be a function/);
    // Not a plain object: the record's own check words it (as before the hand check).
    class Handlers {
      greet = fn;
    }
    expect(shapeError(() => handlersFromModule({ default: new Handlers() }, "m.ts"))).toContain("m.ts");
    const module = workerModuleFrom({ default: { greet: fn, "a.b:c@d/e-f_g": fn }, workflows: { "flow.v2": fn } }, "m.ts");
    expect(Object.keys(module.handlers)).toEqual(["greet", "a.b:c@d/e-f_g"]);
    expect(Object.keys(module.workflows)).toEqual(["flow.v2"]);
    expect(Object.isFrozen(module.handlers)).toBe(true);
  });

  it("reports a module that throws while loading as an import problem", async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "boom.ts"), 'throw new Error("no database");\nexport default {};');
    const error = await moduleError(loadHandlers("boom.ts", dir.path));
    expect(error.problem).toBe("import");
    expect(error.message).toContain("no database");
  });
});
