/**
 * The wire contract of tqd: shared by the server, the worker client and the admin CLI.
 *
 * Schemas are built on first use (`lazySchema`, lazy-schema.ts): building all of them at load,
 * some 600 zod nodes, took 25-30 ms of every start in a compiled binary, where a CLI command
 * needs a handful (`tqd enqueue` 89 -> 73 ms, `tqd work` to started 79-89 -> 67-70 ms, the
 * daemon's start to ready 180-193 -> 166 ms with `z.lazy`; 68 -> 61 and 134 -> 126 ms more
 * without its wrapper objects, 66 -> 59 and 136 -> 127 ms more with the last eager ones
 * made lazy too; bench/NOTES.md). Nothing here builds a schema at load.
 */
export * from "./names.ts";
export * from "./duration.ts";
export * from "./errors.ts";
export * from "./task-states.ts";
export * from "./enqueue.ts";
export * from "./tasks.ts";
export * from "./dead-letter.ts";
export * from "./async-completion.ts";
export * from "./queues.ts";
export * from "./rates.ts";
export * from "./queue-admin.ts";
export * from "./routing.ts";
export * from "./routes.ts";
export type * from "./schema.ts";
export * from "./workflows.ts";
export * from "./worker-stream.ts";
export { handChecked } from "./hand-checked.ts";
export { lazySchema } from "./lazy-schema.ts";
