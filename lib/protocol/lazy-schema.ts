/**
 * A schema that is built on its first use and costs nothing before it: a stand-in that builds
 * the schema `build` returns the first time anything reads it, then forwards every read to it.
 *
 * Why not `z.lazy`: a `z.lazy` wrapper is a zod object itself, and zod's classic objects are
 * dear to make in code that has not been compiled yet (each gets its own parse, safeParse,
 * optional... closures). The wire contract's ~100 wrappers took about 8 ms of every process
 * start that loads it: `tqd enqueue` 68 -> 61 ms, the daemon's start to ready 134 -> 126 ms
 * (medians of 9, interleaved, 2026-11-27; bench/NOTES.md). A schema read by another one (an
 * object's field, `.optional()`) is built when that one first reads it; after that, each use
 * costs one forwarded property read. The stand-in answers `instanceof` and the type checks
 * zod makes (`_zod.traits`) as the schema does, since both are reads.
 */
import type * as z from "zod";

export function lazySchema<S extends z.ZodType>(build: () => S, own?: Partial<Pick<S, "safeParse" | "parse">>): S {
  let built: S | undefined;
  const schema = (): S => (built ??= build());
  // The target is never read: every trap answers from the built schema (or `own`, whose
  // members a caller reads instead of the schema's: see hand-checked.ts). Its descriptors are
  // reported configurable, since a proxy may not report a non-configurable property its target
  // lacks.
  return new Proxy({} as S, {
    get: (_target, key) => (own !== undefined && Object.hasOwn(own, key) ? own[key as keyof typeof own] : Reflect.get(schema(), key)),
    set: (_target, key, value) => Reflect.set(schema(), key, value),
    has: (_target, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(schema(), key, descriptor),
    deleteProperty: (_target, key) => Reflect.deleteProperty(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
