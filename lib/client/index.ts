/** The HTTP client of tqd. */
export { IDLE_CLOSE_MS, TqdClient, type ClientOptions, type ClientTransport } from "./client.ts";
export { TqdApiError, TqdProtocolError, TqdUnreachableError } from "./errors.ts";
export { StreamOrHttp } from "./stream-or-http.ts";
export { FrameTooLargeError, STREAM_FRAME_MAX_CHARS, STREAM_RETRY_MS, StreamUnavailableError, WorkerStream, type WorkerStreamOptions } from "./worker-stream.ts";
