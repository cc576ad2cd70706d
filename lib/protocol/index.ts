/** The wire contract of tqd: shared by the server, the worker client and the admin CLI. */
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
