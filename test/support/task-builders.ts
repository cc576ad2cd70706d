/** Builders for test data: `aTaskRecord({ queue: "q" })`, `anOptions({ heartbeatMs: 1000 })`. */
import { resolveTaskOptions, type LiveTasksAtBoot, type LiveTaskState, type TaskOptions, type TaskOptionsInput, type TaskRecord } from "../../lib/core/index.ts";

let counter = 0;

export function anOptions(input: TaskOptionsInput = {}): TaskOptions {
  return resolveTaskOptions(input);
}

export function aTaskRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  counter++;
  return {
    id: `task-${counter}`,
    seq: counter,
    queue: "q",
    type: "t",
    state: "pending",
    priority: 3,
    fairnessKey: undefined,
    headers: undefined,
    routedFrom: undefined,
    routeRuleId: undefined,
    fallbackQueue: undefined,
    fallbackAt: undefined,
    attempt: 0,
    budgetStart: 0,
    inputJson: `{"n":${counter}}`,
    resultJson: undefined,
    errorJson: undefined,
    heartbeatJson: undefined,
    options: anOptions(),
    runAt: undefined,
    readyAt: 1_700_000_000_000,
    closeDeadline: undefined,
    cancelRequested: false,
    leaseToken: undefined,
    leaseDeadline: undefined,
    worker: undefined,
    createdAt: 1_700_000_000_000,
    startedAt: undefined,
    finishedAt: undefined,
    ...overrides,
  };
}

/** Live tasks for `DispatchCore.restore`, as the store gives them at boot. */
export function liveAtBoot(records: readonly TaskRecord[]): LiveTasksAtBoot {
  const bySeq = new Map(records.map((record) => [record.seq, record]));
  return {
    placements: records.map((record) => ({
      seq: record.seq,
      queue: record.queue,
      type: record.type,
      state: record.state as LiveTaskState,
      priority: record.priority,
      fairnessKey: record.fairnessKey,
      options: record.options,
      closeDeadline: record.closeDeadline,
      fallbackAt: record.fallbackAt,
      routedFrom: record.routedFrom,
      cancelRequested: record.cancelRequested,
      leased: record.leaseToken !== undefined,
    })),
    readLive: (seq) => bySeq.get(seq),
  };
}
