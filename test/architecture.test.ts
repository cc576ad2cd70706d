/**
 * The import graph of lib/, enforced: which module may import which, where each external
 * dependency and runtime API may appear, and no cycles (see README "Architecture").
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const LIB = join(ROOT, "lib");

/** module -> modules (and packages) it may import. `core*` means types and error classes only. */
const ALLOWED: Record<string, readonly string[]> = {
  core: ["metrics"],
  metrics: [],
  clock: [],
  log: [],
  protocol: ["zod"],
  config: ["protocol", "zod"],
  client: ["protocol"],
  store: ["core", "metrics", "kysely", "bun:sqlite", "node:fs", "node:path"],
  daemon: ["core", "store", "clock", "log", "metrics"],
  http: ["daemon", "protocol", "core", "log", "metrics"],
  worker: ["client", "protocol", "clock", "log", "zod", "node:path"],
};

/** Where each tightly held dependency or runtime API may appear (paths relative to lib/). */
const ONE_HOME: { what: string; pattern: RegExp; files: readonly string[] }[] = [
  { what: "bun:sqlite", pattern: /from "bun:sqlite"/, files: ["store/sqlite.ts"] },
  { what: "kysely", pattern: /from "kysely"/, files: ["store/sqlite.ts", "store/schema.ts", "store/sqlite-store.ts"] },
  { what: "Bun.serve", pattern: /\bBun\.serve\b/, files: ["http/serve.ts"] },
  { what: "Bun runtime APIs", pattern: /\bBun\.(?!serve\b)[a-z]\w*\(/, files: ["worker/load-handlers.ts", "worker/run-shell.ts"] },
  { what: "zod outside protocol/config", pattern: /from "zod"/, files: ["worker/load-handlers.ts", "protocol/*", "config/*"] },
  { what: "process.env / process.argv", pattern: /process\.(env|argv)\b/, files: [] },
];

interface SourceFile {
  path: string;
  module: string;
  text: string;
  imports: string[];
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

const files: SourceFile[] = listFiles(LIB).map((path) => {
  const text = stripComments(readFileSync(path, "utf8"));
  const imports = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)].map((m) => (m[1] ?? m[2])!);
  return { path, module: relative(LIB, path).split("/")[0]!, text, imports };
});

function targetOf(file: SourceFile, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const target = relative(LIB, resolve(dirname(file.path), specifier));
  if (target.startsWith("..")) return `outside-lib:${target}`;
  return target.split("/")[0]!;
}

describe("architecture", () => {
  test("every module imports only what the table allows", () => {
    const violations: string[] = [];
    for (const file of files) {
      const allowed = ALLOWED[file.module];
      if (!allowed) {
        violations.push(`${relative(ROOT, file.path)}: module '${file.module}' is not in the table`);
        continue;
      }
      for (const specifier of file.imports) {
        const target = targetOf(file, specifier);
        if (target === file.module) continue;
        if (!allowed.includes(target)) violations.push(`${relative(ROOT, file.path)} imports ${specifier} (${file.module} -> ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("http imports only types and error classes from core", () => {
    const offenders = files
      .filter((file) => file.module === "http")
      .flatMap((file) =>
        [...file.text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(\.\.\/core\/[^"]+)"/g)]
          .filter((m) => !m[1])
          .flatMap((m) => m[2]!.split(",").map((name) => name.trim()).filter((name) => name && !name.startsWith("type ") && !/Error$/.test(name)))
          .map((name) => `${relative(ROOT, file.path)}: ${name}`),
      );
    expect(offenders).toEqual([]);
  });

  test("each external dependency and runtime API has one home", () => {
    const violations: string[] = [];
    for (const rule of ONE_HOME) {
      for (const file of files) {
        const rel = relative(LIB, file.path);
        if (!rule.pattern.test(file.text)) continue;
        const allowed = rule.files.some((home) => (home.endsWith("/*") ? rel.startsWith(home.slice(0, -1)) : rel === home));
        if (!allowed) violations.push(`${rule.what} in lib/${rel}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("zod is imported as a namespace (vitest on Bun mis-resolves zod's re-exported `z`)", () => {
    const named = [...files, ...listFiles(join(ROOT, "test")).map((path) => ({ path, text: readFileSync(path, "utf8") }))]
      .filter((file) => /import\s+(type\s+)?\{[^}]*\bz\b[^}]*\}\s+from\s+"zod"/.test(file.text))
      .map((file) => relative(ROOT, file.path));
    expect(named).toEqual([]);
  });

  test("modules have no import cycles", () => {
    const graph = new Map<string, Set<string>>();
    for (const file of files) {
      const edges = graph.get(file.module) ?? new Set<string>();
      for (const specifier of file.imports) {
        const target = targetOf(file, specifier);
        if (target !== file.module && ALLOWED[target]) edges.add(target);
      }
      graph.set(file.module, edges);
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) return void cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});
