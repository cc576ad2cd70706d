/**
 * The only table from error code to HTTP status, and the rendering of every error answer as
 * `{"error":{"code","message"}}`. Unknown errors become a generic 500: no stack trace, path
 * or SQL ever reaches a client (the details go to the log with the request id).
 */
import { TqdError, type TqdErrorCode } from "../core/errors.ts";
import type { ErrorCode, SchemaError } from "../protocol/index.ts";

const STATUS_OF: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** An error raised by the HTTP layer itself (bad JSON, auth, routing, size). */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of an error code (the worker stream answers with it too). */
export function statusOf(code: ErrorCode): number {
  return STATUS_OF[code];
}

export function errorResponse(code: ErrorCode, message: string, headers?: HeadersInit): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status: STATUS_OF[code],
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Maps a thrown error to its answer; returns undefined for errors that are not ours (500). */
export function responseOfKnownError(error: unknown): Response | undefined {
  const known = knownError(error);
  // A body refused for its size is left unread: the connection closes instead of draining it,
  // and a client still sending it gets this answer rather than waiting on a full socket.
  return known && errorResponse(known.code, known.message, known.code === "payload_too_large" ? { connection: "close" } : undefined);
}

/** The code and message of an error we raised on purpose; undefined for anything else (a bug). */
export function knownError(error: unknown): { code: ErrorCode; message: string } | undefined {
  if (error instanceof HttpError) return { code: error.code, message: error.message };
  if (error instanceof TqdError) return { code: codeOfCore(error.code), message: error.message };
  return undefined;
}

/**
 * An item's own error in a batch answer (`{id, error: {code, message}}`): our refusals pass;
 * anything else is a bug and is rethrown, so the whole request answers 500 as elsewhere.
 */
export function itemError(error: unknown): { code: ErrorCode; message: string } {
  const known = knownError(error);
  if (!known) throw error;
  return known;
}

/** A zod failure as a 400 that names each offending field. */
export function invalidRequest(error: SchemaError): HttpError {
  const details = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
  return new HttpError("invalid_argument", `invalid request: ${details}`);
}

function codeOfCore(code: TqdErrorCode): ErrorCode {
  return code;
}
