/**
 * The closed set of error codes a client can see. Every non-2xx answer has the body
 * `{"error":{"code","message"}}`; the code is stable, the message is for humans.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

export const ERROR_CODES = [
  "invalid_argument",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const errorBodySchema = lazySchema(() => z.object({
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
}));

export type ErrorBody = z.infer<typeof errorBodySchema>;
