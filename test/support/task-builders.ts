/** Builders for test data: `aTaskRecord({ queue: "q" })`. */
import type { TaskRecord } from "../../lib/core/index.ts";

let counter = 0;

export function aTaskRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  counter++;
  return {
    id: `task-${counter}`,
    seq: counter,
    queue: "q",
    type: "t",
    state: "pending",
    attempt: 0,
    inputJson: `{"n":${counter}}`,
    resultJson: undefined,
    errorJson: undefined,
    heartbeatJson: undefined,
    startToCloseMs: 300_000,
    leaseToken: undefined,
    leaseDeadline: undefined,
    worker: undefined,
    createdAt: 1_700_000_000_000,
    startedAt: undefined,
    finishedAt: undefined,
    ...overrides,
  };
}
