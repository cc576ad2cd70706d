/**
 * Which transport a call that the stream carries takes: the stream, unless the server refused
 * it lately (an older server, a proxy without WebSockets, a bad token: HTTP for
 * STREAM_RETRY_MS, then the stream is tried again), and HTTP for a call whose frame is too
 * large for the stream (that call only). One policy for producers (TqdClient) and workers
 * (worker/streaming-client.ts).
 */
import { FrameTooLargeError, STREAM_RETRY_MS, StreamUnavailableError } from "./worker-stream.ts";

export class StreamOrHttp {
  /** Epoch ms until which the stream is not tried. */
  private httpUntilMs = 0;

  constructor(
    /** Called when the server refuses the stream (the calls go over HTTP meanwhile). */
    private readonly onRefused: (error: StreamUnavailableError) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The stream is tried for calls now (the server has not refused it lately, and it is not off). */
  get streamOn(): boolean {
    return this.now() >= this.httpUntilMs;
  }

  /** Every later call goes over HTTP (the stream was closed for good). */
  turnOff(): void {
    this.httpUntilMs = Number.POSITIVE_INFINITY;
  }

  async call<T>(overStream: () => Promise<T>, overHttp: () => Promise<T>): Promise<T> {
    if (!this.streamOn) return overHttp();
    try {
      return await overStream();
    } catch (error) {
      if (error instanceof StreamUnavailableError) {
        this.httpUntilMs = this.now() + STREAM_RETRY_MS;
        this.onRefused(error);
      } else if (!(error instanceof FrameTooLargeError)) {
        throw error;
      }
      // Over HTTP, which answers 413 if the body is too large there too.
      return overHttp();
    }
  }
}
