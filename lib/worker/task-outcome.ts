/** What an attempt ended with, in the shape the complete and fail routes take. */
import { LIMITS, type TaskError } from "../protocol/index.ts";

export type TaskOutcome = { ok: true; result: unknown } | { ok: false; error: TaskError };

/** Longest error type the fail route accepts. */
const MAX_ERROR_TYPE_CHARS = 255;

/**
 * `{type: error.name, message}` for a thrown value, cut to what the fail route accepts, plus
 * `nonRetryable: true` when the value says so (own or inherited property, e.g. NonRetryableError).
 */
export function taskErrorFrom(thrown: unknown): TaskError {
  const error =
    thrown instanceof Error
      ? taskError(thrown.name, thrown.message)
      : taskError("Error", typeof thrown === "string" ? thrown : safeJson(thrown));
  return isNonRetryable(thrown) ? { ...error, nonRetryable: true } : error;
}

function isNonRetryable(thrown: unknown): boolean {
  if ((typeof thrown !== "object" && typeof thrown !== "function") || thrown === null) return false;
  try {
    return (thrown as { nonRetryable?: unknown }).nonRetryable === true;
  } catch {
    return false; // a throwing getter (or a revoked proxy) says nothing either way
  }
}

/** A TaskError with the type and message cut to the protocol's limits. */
export function taskError(type: string, message: string): TaskError {
  const cleanType = type.trim() === "" ? "Error" : type.slice(0, MAX_ERROR_TYPE_CHARS);
  const cleanMessage =
    message.length > LIMITS.errorMessageChars ? message.slice(0, LIMITS.errorMessageChars - 1) + "…" : message;
  return { type: cleanType, message: cleanMessage };
}

/** One line for logs. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
