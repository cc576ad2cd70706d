/** The running server: core + store + clock + waiters. */
export { Daemon, type DaemonDeps, type PollCommand, type ReleaseResult, type TaskDetails } from "./daemon.ts";
export type { EnqueueCommand, EnqueueOutcome, IfExists } from "./enqueue-plan.ts";
export { DaemonEvents, type DaemonEventMap } from "./daemon-events.ts";
export { DEFAULT_RETENTION, type RetentionSettings } from "./dead-letters.ts";
export { mintedIds, type IdSource } from "./task-ids.ts";
export type { QueueDescription, QueueListing } from "./queue-admin.ts";
export type { RouteTableView, RuleStats } from "./traffic-router.ts";
export type { StartWorkflowCommand, WorkflowCommandInput, WorkflowNaming, WorkflowTaskAnswer } from "./workflow-engine.ts";
export type { WorkflowDescription, WorkflowExplanation } from "./workflow-views.ts";
