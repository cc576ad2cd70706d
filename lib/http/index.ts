/** The HTTP API: routes, error mapping, and the Bun.serve adapter. */
export { createFetchHandler, type FetchHandler } from "./create-fetch-handler.ts";
export type { HttpSettings } from "./route-context.ts";
export { startHttpServer, type HttpServer } from "./serve.ts";
export { createWorkerStreamEndpoint, type WorkerStreamEndpoint } from "./worker-stream.ts";
