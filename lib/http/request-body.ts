/**
 * Reading a request body: enforce the size limit before and while reading, parse JSON, and
 * validate against the route's schema. Every failure is a 4xx with a message, never a 500.
 */
import type { Schema, SchemaOutput } from "../protocol/index.ts";
import { HttpError, invalidRequest } from "./errors.ts";

export async function readJsonBody<S extends Schema>(request: Request, schema: S, maxBytes: number): Promise<SchemaOutput<S>> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw new HttpError("invalid_argument", "request body is empty: expected a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError("invalid_argument", "request body is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

/** Serializes a JSON value from a parsed body back to text for the store (undefined stays undefined). */
export function jsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError("payload_too_large", `request body is larger than the limit of ${maxBytes} bytes (see --max-body)`);
}
