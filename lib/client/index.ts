/** The HTTP client of tqd. */
export { TqdClient, type ClientOptions } from "./client.ts";
export { TqdApiError, TqdProtocolError, TqdUnreachableError } from "./errors.ts";
export { StreamUnavailableError, WorkerStream, type WorkerStreamOptions } from "./worker-stream.ts";
