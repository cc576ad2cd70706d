/**
 * Errors the core (and the daemon around it) throws. Each carries a stable code from the closed
 * set below; lib/http holds the only table from code to HTTP status.
 */
export type TqdErrorCode =
  | "invalid_argument"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unavailable"
  | "internal";

export class TqdError extends Error {
  constructor(
    readonly code: TqdErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends TqdError {
  constructor(message: string) {
    super("invalid_argument", message);
  }
}

export class NotFoundError extends TqdError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** The request is well-formed but contradicts the task's state (stale lease, reused id). */
export class ConflictError extends TqdError {
  constructor(message: string) {
    super("conflict", message);
  }
}

/** The store could not commit, or the daemon is shutting down: try again later. */
export class UnavailableError extends TqdError {
  constructor(message: string) {
    super("unavailable", message);
  }
}
