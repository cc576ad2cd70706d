/**
 * Reading a request body: enforce the size limit before and while reading, parse JSON, and
 * validate against the route's schema. Every failure is a 4xx with a message, never a 500.
 */
import type { Schema, SchemaOutput } from "../protocol/index.ts";
import { HttpError, invalidRequest } from "./errors.ts";

/** Stateless without `stream`, so one serves every request. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export async function readJsonBody<S extends Schema>(request: Request, schema: S, maxBytes: number, emptyBody?: unknown): Promise<SchemaOutput<S>> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  let value: unknown = emptyBody;
  if (bytes.byteLength > 0) {
    try {
      value = JSON.parse(utf8.decode(bytes));
    } catch {
      throw new HttpError("invalid_argument", "request body is not valid JSON");
    }
  } else if (emptyBody === undefined) {
    throw new HttpError("invalid_argument", "request body is empty: expected a JSON object");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

/** Like readJsonBody, but an empty body counts as `{}` (for routes whose fields are all optional). */
export function readOptionalJsonBody<S extends Schema>(context: { request: Request; settings: { maxBodyBytes: number } }, schema: S): Promise<SchemaOutput<S>> {
  return readJsonBody(context.request, schema, context.settings.maxBodyBytes, {});
}

/** Serializes a JSON value from a parsed body back to text for the store (undefined stays undefined). */
export function jsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError("payload_too_large", `request body is larger than the limit of ${maxBytes} bytes (see --max-body)`);
}
