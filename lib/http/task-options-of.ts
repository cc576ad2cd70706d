/** Maps the wire's timeout and retry fields (durations already in ms) to the core's options input. */
import type { TaskOptionsInput } from "../core/index.ts";
import type { RetryPolicyRequest } from "../protocol/index.ts";

type ParsedRetry = { [K in keyof RetryPolicyRequest]: K extends "initialInterval" | "maxInterval" ? number | undefined : RetryPolicyRequest[K] };

export interface TimeoutFields {
  scheduleToStartTimeout?: number | undefined;
  startToCloseTimeout?: number | undefined;
  scheduleToCloseTimeout?: number | undefined;
  heartbeatTimeout?: number | undefined;
  retryPolicy?: ParsedRetry | undefined;
}

export function taskOptionsOf(body: TimeoutFields): TaskOptionsInput {
  const retry = body.retryPolicy;
  return {
    scheduleToStartMs: body.scheduleToStartTimeout,
    startToCloseMs: body.startToCloseTimeout,
    scheduleToCloseMs: body.scheduleToCloseTimeout,
    heartbeatMs: body.heartbeatTimeout,
    retry: retry && {
      initialIntervalMs: retry.initialInterval,
      backoffCoefficient: retry.backoffCoefficient,
      maxIntervalMs: retry.maxInterval,
      maxAttempts: retry.maxAttempts,
      nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
    },
  };
}
