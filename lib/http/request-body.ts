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
  // A declared length bounds the body (HTTP framing); one sent in chunks is counted as it comes.
  const bytes = Number.isFinite(declared) ? await request.arrayBuffer() : await readBounded(request, maxBytes);
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

/** The body of a request without a declared length, refused as soon as it passes `maxBytes`. */
async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError("payload_too_large", `request body is larger than the limit of ${maxBytes} bytes (see --max-body)`);
}
