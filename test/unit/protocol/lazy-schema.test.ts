import * as z from "zod";
import { describe, expect, test } from "vitest";
import { lazySchema } from "../../../lib/protocol/lazy-schema.ts";

describe("lazySchema", () => {
  test("builds nothing until first read, then builds once", () => {
    let builds = 0;
    const schema = lazySchema(() => {
      builds++;
      return z.object({ id: z.string() });
    });
    const nested = z.object({ inner: schema.optional(), n: z.number() });
    expect(builds).toBe(1); // .optional() reads it
    const untouched = lazySchema(() => {
      builds++;
      return z.string();
    });
    expect(builds).toBe(1);
    expect(nested.safeParse({ inner: { id: "a" }, n: 1 }).success).toBe(true);
    expect(untouched.safeParse("x").success).toBe(true);
    expect(untouched.safeParse(1).success).toBe(false);
    expect(builds).toBe(2);
  });

  test("answers as the schema it stands for: results, errors, types and composition", () => {
    const build = () => z.strictObject({ id: z.string().regex(/^[a-z]+$/, "ids are lowercase letters"), n: z.number().int().optional() });
    const lazy = lazySchema(build);
    const eager = build();
    const values: unknown[] = [{ id: "abc" }, { id: "abc", n: 2 }, { id: "ABC" }, { id: "abc", n: 1.5 }, { id: "abc", other: 1 }, null, "x", [], { n: 1 }];
    for (const value of values) {
      const [fromLazy, fromEager] = [lazy.safeParse(value), eager.safeParse(value)];
      expect(fromLazy.success).toBe(fromEager.success);
      expect(fromLazy.data).toEqual(fromEager.data);
      expect(fromLazy.error?.issues).toEqual(fromEager.error?.issues);
    }
    expect(lazy instanceof z.ZodObject).toBe(true);
    expect(lazy.shape.id instanceof z.ZodString).toBe(true);
    expect(() => lazy.parse({ id: "ABC" })).toThrow(/ids are lowercase letters/);
    // Inside other schemas, as an element, an option and an extension's base.
    expect(z.array(lazy).safeParse([{ id: "a" }, { id: "b", n: 3 }]).success).toBe(true);
    expect(z.union([z.string(), lazy]).safeParse({ id: "a" }).success).toBe(true);
    expect(lazy.extend({ extra: z.boolean() }).safeParse({ id: "a", extra: true }).success).toBe(true);
  });
});
