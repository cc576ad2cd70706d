/** StreamOrHttp: which transport a call the stream carries takes, on an injected clock. */
import { describe, expect, test } from "vitest";
import { FrameTooLargeError, STREAM_RETRY_MS, StreamOrHttp, StreamUnavailableError } from "../../../lib/client/index.ts";

describe("StreamOrHttp", () => {
  const overHttp = () => Promise.resolve("http");
  const overStream = () => Promise.resolve("stream");
  const refused = () => Promise.reject(new StreamUnavailableError("Expected 101 status code"));

  test("the stream while it works; after a refusal HTTP for STREAM_RETRY_MS, then the stream again", async () => {
    let now = 1_000;
    const refusals: string[] = [];
    const transport = new StreamOrHttp((error) => refusals.push(error.message), () => now);
    expect(await transport.call(overStream, overHttp)).toBe("stream");
    expect(await transport.call(refused, overHttp)).toBe("http");
    expect(refusals).toEqual(["Expected 101 status code"]);
    expect(transport.streamOn).toBe(false);
    now += STREAM_RETRY_MS - 1;
    expect(await transport.call(overStream, overHttp)).toBe("http");
    now += 1;
    expect(transport.streamOn).toBe(true);
    expect(await transport.call(overStream, overHttp)).toBe("stream");
  });

  test("a frame too large goes over HTTP for that call only; other failures are the call's", async () => {
    const transport = new StreamOrHttp();
    expect(await transport.call(() => Promise.reject(new FrameTooLargeError("big")), overHttp)).toBe("http");
    expect(transport.streamOn).toBe(true);
    await expect(transport.call(() => Promise.reject(new Error("socket closed")), overHttp)).rejects.toThrow("socket closed");
    expect(await transport.call(overStream, overHttp)).toBe("stream");
  });

  test("turned off, every call goes over HTTP", async () => {
    const transport = new StreamOrHttp();
    transport.turnOff();
    expect(transport.streamOn).toBe(false);
    expect(await transport.call(overStream, overHttp)).toBe("http");
  });
});
