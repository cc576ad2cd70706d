/**
 * Schemas with a hand-checked fast path. In the daemon and the worker every route's schemas
 * share zod's code, and there a parse of the few shapes sent for nearly every task cost
 * several µs a task (see bench/NOTES.md, "Hot path"). Such a shape is recognised by a hand check of
 * the contract's own rules; anything else, and every error, still comes from the contract.
 * Each use has a test holding the two to the same data and errors.
 */
import * as z from "zod";

/** `contract`, except that what `plain` accepts (returning the contract's output for it) skips zod. */
export function handChecked<C extends z.ZodType>(contract: C, plain: (value: unknown) => z.output<C> | undefined) {
  return z.unknown().transform((value, ctx): z.output<C> => {
    const accepted = plain(value);
    if (accepted !== undefined) return accepted;
    const parsed = contract.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
}

/** A JSON object as a hand check reads it: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
