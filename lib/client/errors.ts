/** Errors a client call can end with; the CLI maps each to an exit code. */
import type { ErrorCode } from "../protocol/index.ts";

/** The server answered with an error body. */
export class TqdApiError extends Error {
  override readonly name = "TqdApiError";
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
  ) {
    super(message);
  }
}

/** No HTTP answer at all: connection refused, reset, DNS failure. */
export class TqdUnreachableError extends Error {
  override readonly name = "TqdUnreachableError";
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach the tqd server at ${url}: ${describeCause(cause)}`);
  }
}

/** The server answered 2xx with a body that does not match the protocol. */
export class TqdProtocolError extends Error {
  override readonly name = "TqdProtocolError";
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" ? `${code} (${cause.message})` : cause.message;
  }
  return String(cause);
}
