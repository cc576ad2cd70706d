/** The running server: core + store + clock + waiters. */
export { Daemon, type DaemonDeps, type PollCommand } from "./daemon.ts";
export type { EnqueueCommand, EnqueueOutcome } from "./enqueue-plan.ts";
export { DaemonEvents, type DaemonEventMap } from "./daemon-events.ts";
export { randomIds, type IdSource } from "./task-ids.ts";
