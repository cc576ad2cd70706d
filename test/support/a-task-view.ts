/** Builds a protocol TaskView for tests that render or wait on tasks without a server. */
import type { TaskView } from "../../lib/protocol/index.ts";

export function aTaskView(overrides: Partial<TaskView> = {}): TaskView {
  return {
    id: "task-1",
    queue: "hello",
    type: "greet",
    state: "pending",
    attempt: 0,
    priority: 3,
    input: { name: "Ada" },
    createdAt: "2024-06-01T12:00:00.000Z",
    startToCloseTimeoutMs: 300_000,
    retryPolicy: { initialIntervalMs: 1_000, backoffCoefficient: 2, maxIntervalMs: 100_000, maxAttempts: 10, nonRetryableErrorTypes: [] },
    ...overrides,
  };
}
