/**
 * Schemas with a hand-checked fast path. In the daemon and the worker every route's schemas
 * share zod's code, and there a parse of the few shapes sent for nearly every task cost
 * several µs a task (see bench/NOTES.md, "Hot path"). Such a shape is recognised by a hand check of
 * the contract's own rules; anything else, and every error, still comes from the contract.
 * Each use has a test holding the two to the same data and errors.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

/**
 * `contract`, except that what `plain` accepts (returning the contract's output for it) skips
 * zod. A `safeParse` or `parse` of the schema itself calls `plain` first and builds nothing
 * while it accepts: a fresh daemon's first batch spent about 3 ms building zod's wrapper, and
 * each parse through it ran zod's machinery around the hand check. Inside another schema
 * (an item of an array, say), zod runs the wrapper, which calls `plain` first too.
 */
export function handChecked<C extends z.ZodType>(contract: C, plain: (value: unknown) => z.output<C> | undefined) {
  const wrapper = () =>
    z.unknown().transform((value, ctx): z.output<C> => {
      const accepted = plain(value);
      if (accepted !== undefined) return accepted;
      const parsed = contract.safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
      return z.NEVER;
    });
  type Wrapper = ReturnType<typeof wrapper>;
  let built: Wrapper | undefined;
  const full = (): Wrapper => (built ??= wrapper());
  const safeParse = ((value: unknown) => {
    const accepted = plain(value);
    return accepted !== undefined ? { success: true, data: accepted } : full().safeParse(value);
  }) as Wrapper["safeParse"];
  const parse = ((value: unknown) => {
    const accepted = plain(value);
    return accepted !== undefined ? accepted : full().parse(value);
  }) as Wrapper["parse"];
  return lazySchema(full, { safeParse, parse });
}

/** A JSON object as a hand check reads it: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
