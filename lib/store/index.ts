/** The SQLite write-ahead store behind the TaskStore port. */
export type { CommitStats, FinalTaskRef, LiveSnapshot, StoreOp, TaskStore } from "./task-store.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";
export { DataDirLockedError, DATABASE_FILE } from "./sqlite.ts";
