/**
 * Per-task timeouts and retry policy: the documented defaults, the validation of combinations
 * (each error names its field), and the backoff schedule. Semantics follow Temporal's
 * activities: schedule-to-start bounds the wait for a worker (final), start-to-close bounds each
 * attempt (retried), heartbeat bounds the gap between heartbeats (retried), schedule-to-close
 * bounds the whole task including retries (final).
 */
import { InvalidArgumentError } from "./errors.ts";

export interface RetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  nonRetryableErrorTypes: readonly string[];
}

/** Immutable after enqueue; durations in ms, undefined = no limit. */
export interface TaskOptions {
  scheduleToStartMs: number | undefined;
  startToCloseMs: number;
  scheduleToCloseMs: number | undefined;
  heartbeatMs: number | undefined;
  retry: RetryPolicy;
}

export const DEFAULT_START_TO_CLOSE_MS = 5 * 60_000;
export const DEFAULT_RETRY = { initialIntervalMs: 1_000, backoffCoefficient: 2, maxIntervalFactor: 100, maxAttempts: 10 } as const;

export interface TaskOptionsInput {
  scheduleToStartMs?: number | undefined;
  startToCloseMs?: number | undefined;
  scheduleToCloseMs?: number | undefined;
  heartbeatMs?: number | undefined;
  retry?: {
    initialIntervalMs?: number | undefined;
    backoffCoefficient?: number | undefined;
    maxIntervalMs?: number | undefined;
    maxAttempts?: number | undefined;
    nonRetryableErrorTypes?: readonly string[] | undefined;
  } | undefined;
}

/**
 * Fills defaults and checks combinations. Without startToClose the attempt may take as long as
 * scheduleToClose allows, else the default (5 min).
 */
export function resolveTaskOptions(input: TaskOptionsInput, defaultStartToCloseMs = DEFAULT_START_TO_CLOSE_MS): TaskOptions {
  // Most tasks take every default: they share one frozen object instead of allocating their own.
  if (isEmpty(input)) return defaultsFor(defaultStartToCloseMs);
  const scheduleToCloseMs = input.scheduleToCloseMs;
  const startToCloseMs = input.startToCloseMs ?? scheduleToCloseMs ?? defaultStartToCloseMs;
  if (scheduleToCloseMs !== undefined && startToCloseMs > scheduleToCloseMs) {
    throw new InvalidArgumentError("startToCloseTimeout must not exceed scheduleToCloseTimeout");
  }
  if (scheduleToCloseMs !== undefined && input.scheduleToStartMs !== undefined && input.scheduleToStartMs > scheduleToCloseMs) {
    throw new InvalidArgumentError("scheduleToStartTimeout must not exceed scheduleToCloseTimeout");
  }
  if (input.heartbeatMs !== undefined && input.heartbeatMs > startToCloseMs) {
    throw new InvalidArgumentError(`heartbeatTimeout must not exceed startToCloseTimeout (${startToCloseMs} ms)`);
  }
  const initialIntervalMs = input.retry?.initialIntervalMs ?? DEFAULT_RETRY.initialIntervalMs;
  const maxIntervalMs = input.retry?.maxIntervalMs ?? initialIntervalMs * DEFAULT_RETRY.maxIntervalFactor;
  if (maxIntervalMs < initialIntervalMs) throw new InvalidArgumentError("retryPolicy.maxInterval must not be below retryPolicy.initialInterval");
  const backoffCoefficient = input.retry?.backoffCoefficient ?? DEFAULT_RETRY.backoffCoefficient;
  if (!(backoffCoefficient >= 1)) throw new InvalidArgumentError("retryPolicy.backoffCoefficient must be at least 1");
  return shared({
    scheduleToStartMs: input.scheduleToStartMs,
    startToCloseMs,
    scheduleToCloseMs,
    heartbeatMs: input.heartbeatMs,
    retry: {
      initialIntervalMs,
      backoffCoefficient,
      maxIntervalMs,
      maxAttempts: input.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      nonRetryableErrorTypes: [...(input.retry?.nonRetryableErrorTypes ?? [])],
    },
  });
}

/**
 * Equal option sets share one frozen object, so the tasks of a batch that all name the same
 * timeouts hold one (and share a `TaskKind`, see live-task.ts). Cleared when full.
 */
const sharedOptions = new Map<string, TaskOptions>();
const MAX_SHARED_OPTIONS = 1_024;

function shared(options: TaskOptions): TaskOptions {
  const r = options.retry;
  const key = `${options.scheduleToStartMs}|${options.startToCloseMs}|${options.scheduleToCloseMs}|${options.heartbeatMs}|${r.initialIntervalMs}|${r.backoffCoefficient}|${r.maxIntervalMs}|${r.maxAttempts}|${JSON.stringify(r.nonRetryableErrorTypes)}`;
  let found = sharedOptions.get(key);
  if (!found) {
    if (sharedOptions.size >= MAX_SHARED_OPTIONS) sharedOptions.clear();
    found = Object.freeze({ ...options, retry: Object.freeze({ ...r, nonRetryableErrorTypes: Object.freeze(r.nonRetryableErrorTypes) }) });
    sharedOptions.set(key, found);
  }
  return found;
}

/** Backoff after the `failedAttempts`-th failure of the current budget (1 = after the first). */
export function backoffMs(policy: RetryPolicy, failedAttempts: number): number {
  const raw = policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, failedAttempts - 1);
  return Math.min(policy.maxIntervalMs, Math.round(raw));
}

const sharedDefaults = new Map<number, TaskOptions>();

function defaultsFor(startToCloseMs: number): TaskOptions {
  let options = sharedDefaults.get(startToCloseMs);
  if (!options) {
    options = Object.freeze(resolveTaskOptions({ startToCloseMs }, startToCloseMs));
    if (sharedDefaults.size < 16) sharedDefaults.set(startToCloseMs, options);
  }
  return options;
}

function isEmpty(input: TaskOptionsInput): boolean {
  const retry = input.retry;
  const retryEmpty =
    retry === undefined ||
    (retry.initialIntervalMs === undefined && retry.backoffCoefficient === undefined && retry.maxIntervalMs === undefined && retry.maxAttempts === undefined && retry.nonRetryableErrorTypes === undefined);
  return retryEmpty && input.scheduleToStartMs === undefined && input.startToCloseMs === undefined && input.scheduleToCloseMs === undefined && input.heartbeatMs === undefined;
}
