/** The pure dispatch core: no I/O, no clock reads, no runtime APIs. */
export * from "./dispatch-core.ts";
export * from "./errors.ts";
export * from "./task-state.ts";
export * from "./task-options.ts";
export { QueueState, type EffectiveLimit, type FairnessSetting, type LimitSource, type LiveCounts, type ParkedPoller, type QueueSettings } from "./queue-state.ts";
export { PRIORITY_LEVELS } from "./ready-lines.ts";
export { DEFAULT_HOT_TASKS, type ColdLine, type ColdTaskSource, type LivePlacement } from "./cold-tail.ts";
export { defaultBurst, type RateLimit } from "./token-bucket.ts";
export type { PollerInfo } from "./poller-registry.ts";
export { explainTask, type Explanation } from "./explain.ts";
export * from "./route-rules.ts";
export type * from "./workflow-records.ts";
export { DeadlineHeap, type DeadlineEntry } from "./deadline-heap.ts";
export * from "./minted-task-id.ts";
