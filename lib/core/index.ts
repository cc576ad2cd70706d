/** The pure dispatch core: no I/O, no clock reads, no runtime APIs. */
export * from "./dispatch-core.ts";
export * from "./errors.ts";
export * from "./task-state.ts";
export * from "./task-options.ts";
export { emptyCounts, PRIORITY_LEVELS, type ParkedPoller, type StateCounts } from "./queue-state.ts";
