/**
 * The schema types the rest of tqd may name. zod's home is lib/protocol (and lib/config), so
 * other modules refer to schemas and validation failures through these aliases.
 */
import type * as z from "zod";

export type Schema<Output = unknown> = z.ZodType<Output>;
export type SchemaOutput<S extends z.ZodType> = z.output<S>;
export type SchemaError = z.ZodError;
