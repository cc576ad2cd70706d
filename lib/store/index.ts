/** The SQLite write-ahead store behind the TaskStore port. */
export type { CommitStats, FinalCountRow, FinalTaskRef, LiveSnapshot, RouteVersion, StoreOp, StoredQueue, TaskStore, RunningWorkflows, WorkflowListFilter } from "./task-store.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";
export { DataDirLockedError, DATABASE_FILE } from "./sqlite.ts";
