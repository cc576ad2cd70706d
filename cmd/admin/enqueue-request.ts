/**
 * How `tqd enqueue`'s flags become the protocol's EnqueueRequest. Kept apart from the command so
 * the mapping (in particular `--retries N` = N + 1 attempts) is tested as a pure function.
 */
import { baseQueueOf, type EnqueueRequest, type RetryPolicyRequest } from "../../lib/protocol/index.ts";
import type { Backoff } from "./argument-parsers.ts";
import { headersFrom } from "./routing-arguments.ts";

/** The task-shaping flags of `tqd enqueue`, already parsed and checked one by one. */
export interface EnqueueTaskFlags {
  id?: string;
  ifExists?: "reject" | "return" | "new";
  priority?: number;
  /** Tasks of one key share dispatches fairly with other keys' tasks (`tqd fairness`). */
  fairnessKey?: string;
  delay?: string;
  at?: string;
  timeoutStart?: string;
  timeoutRun?: string;
  timeoutTotal?: string;
  heartbeat?: string;
  /** Retries after the first attempt: 0 runs the task once. */
  retries?: number;
  backoff?: Backoff;
  nonRetryable?: string[];
  /** `--header NAME=VALUE` pairs in the order given (traffic rules match on them). */
  header?: [string, string][];
  /** Not started within this, the task moves to `fallbackQueue` (or the base queue). */
  fallbackAfter?: string;
  fallbackQueue?: string;
}

/** Most `--non-retryable` types one task may list, as in the protocol's retry policy. */
export const MAX_NON_RETRYABLE_TYPES = 100;

/**
 * Checks what a per-flag parser cannot see (flags that are only wrong together, repeat counts);
 * returns the usage message, or undefined. Combinations of timeouts (e.g. --heartbeat longer than
 * --timeout-run) are the server's to judge: it answers 400 naming the field.
 */
export function checkEnqueueFlagCombinations(flags: EnqueueTaskFlags, queue: string): string | undefined {
  if (flags.delay !== undefined && flags.at !== undefined) return "--delay and --at both say when the task may start: give one of them";
  if (flags.ifExists !== undefined && flags.id === undefined) return "--if-exists needs --id (a new id never exists)";
  if ((flags.nonRetryable?.length ?? 0) > MAX_NON_RETRYABLE_TYPES) return `--non-retryable may be given at most ${MAX_NON_RETRYABLE_TYPES} times`;
  const headers = headersFrom(flags.header);
  if (typeof headers === "string") return headers;
  if (flags.fallbackQueue !== undefined && flags.fallbackAfter === undefined) return "--fallback-queue needs --fallback-after (it says when the task moves there)";
  if (flags.fallbackQueue === queue) return `--fallback-queue ${queue} is the queue the task is sent to: name another one`;
  if (flags.fallbackAfter !== undefined && flags.fallbackQueue === undefined && baseQueueOf(queue) === queue) {
    return `--fallback-after needs --fallback-queue here: ${queue} is not a host or worker queue (Q@host:H, Q@worker:ID), so it has no base queue to fall back to`;
  }
  return undefined;
}

/**
 * Builds the request. `id` is the producer's `--id`, or one minted by the CLI so that the
 * request is idempotent and safe to retry. Flags left out stay out, so the server's defaults
 * apply (and show in `tqd get`).
 */
export function buildEnqueueRequest(type: string, input: { value: unknown } | undefined, id: string, flags: EnqueueTaskFlags): EnqueueRequest {
  const request: EnqueueRequest = { type, id };
  if (input) request.input = input.value;
  if (flags.ifExists !== undefined) request.ifExists = flags.ifExists;
  if (flags.priority !== undefined) request.priority = flags.priority;
  if (flags.fairnessKey !== undefined) request.fairnessKey = flags.fairnessKey;
  if (flags.delay !== undefined) request.delay = flags.delay;
  if (flags.at !== undefined) request.runAt = flags.at;
  if (flags.timeoutStart !== undefined) request.scheduleToStartTimeout = flags.timeoutStart;
  if (flags.timeoutRun !== undefined) request.startToCloseTimeout = flags.timeoutRun;
  if (flags.timeoutTotal !== undefined) request.scheduleToCloseTimeout = flags.timeoutTotal;
  if (flags.heartbeat !== undefined) request.heartbeatTimeout = flags.heartbeat;
  const headers = headersFrom(flags.header);
  if (typeof headers === "object") request.headers = headers;
  if (flags.fallbackAfter !== undefined) request.fallbackAfter = flags.fallbackAfter;
  if (flags.fallbackQueue !== undefined) request.fallbackQueue = flags.fallbackQueue;
  const retryPolicy = buildRetryPolicy(flags);
  if (retryPolicy) request.retryPolicy = retryPolicy;
  return request;
}

function buildRetryPolicy(flags: EnqueueTaskFlags): RetryPolicyRequest | undefined {
  const policy: RetryPolicyRequest = {};
  if (flags.retries !== undefined) policy.maxAttempts = flags.retries + 1;
  if (flags.backoff) {
    policy.initialInterval = flags.backoff.initialInterval;
    if (flags.backoff.backoffCoefficient !== undefined) policy.backoffCoefficient = flags.backoff.backoffCoefficient;
    if (flags.backoff.maxInterval !== undefined) policy.maxInterval = flags.backoff.maxInterval;
  }
  if (flags.nonRetryable && flags.nonRetryable.length > 0) policy.nonRetryableErrorTypes = [...new Set(flags.nonRetryable)];
  return Object.keys(policy).length > 0 ? policy : undefined;
}
