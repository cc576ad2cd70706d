import { describe, expect, it } from "vitest";
import { ConfigError, parseGraceMs, resolveWorkConfig, type WorkFlags } from "../../../lib/config/index.ts";
import { parseDuration } from "../../../lib/protocol/index.ts";

function resolve(handlersPath: string | undefined, flags: WorkFlags, env: Record<string, string> = {}) {
  return resolveWorkConfig({ handlersPath, flags, env, defaultIdentity: "host-1:4242", defaultHost: "host-1" });
}

function flagOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.flag;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveWorkConfig", () => {
  it("applies the documented defaults", () => {
    const config = resolve("handlers.ts", { queue: ["emails"] });
    expect(config).toMatchObject({
      source: { kind: "module", path: "handlers.ts" },
      queues: ["emails"],
      concurrency: 10,
      identity: "host-1:4242",
      host: "host-1",
      queueRate: undefined,
      ratePerSecond: undefined,
      pollWaitMs: 30_000,
      graceMs: 30_000,
      transport: "stream",
      client: { serverUrl: "http://127.0.0.1:7070", token: undefined },
    });
  });

  it("takes the server and token from the environment, flags first", () => {
    const env = { TQD_SERVER: "http://tqd:7070", TQD_TOKEN: "from-env" };
    expect(resolve("h.ts", { queue: ["q"] }, env).client).toEqual({ serverUrl: "http://tqd:7070", token: "from-env" });
    expect(resolve("h.ts", { queue: ["q"], token: "flag" }, env).client.token).toBe("flag");
  });

  it("resolves --exec with its --type list and de-duplicates repeated names", () => {
    const config = resolve(undefined, { exec: "./run.sh", type: ["a", "b", "a"], queue: ["q", "q"] });
    expect(config.source).toEqual({ kind: "exec", command: "./run.sh", types: ["a", "b"] });
    expect(config.queues).toEqual(["q"]);
  });

  it("names the flag at fault", () => {
    expect(flagOf(() => resolve("h.ts", {}))).toBe("--queue");
    expect(flagOf(() => resolve(undefined, { queue: ["q"] }))).toBe("HANDLERS");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], exec: "cat" }))).toBe("--exec");
    expect(flagOf(() => resolve(undefined, { queue: ["q"], exec: "cat" }))).toBe("--type");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], type: ["t"] }))).toBe("--type");
    expect(flagOf(() => resolve("h.ts", { queue: ["bad name"] }))).toBe("--queue");
    expect(flagOf(() => resolve("h.ts", { queue: ["files@host:web-1"] }))).toBe("--queue"); // the worker polls it itself
    expect(flagOf(() => resolve("h.ts", { queue: ["files@worker:w-1"] }))).toBe("--queue");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], concurrency: "0" }))).toBe("--concurrency");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], concurrency: "1001" }))).toBe("--concurrency");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], grace: "soon" }))).toBe("--grace");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], server: "ftp://x" }))).toBe("--server");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], rate: "fast" }))).toBe("--rate");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], rate: "0/s" }))).toBe("--rate");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], queueRate: "10" }))).toBe("--queue-rate");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], host: "" }))).toBe("--host");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], pollWait: "50ms" }))).toBe("--poll-wait");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], pollWait: "2m" }))).toBe("--poll-wait");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], host: "h".repeat(256) }))).toBe("--host");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"], transport: "grpc" }))).toBe("--transport");
    expect(flagOf(() => resolve("h.ts", { queue: ["q"] }, { TQD_TRANSPORT: "tcp" }))).toBe("--transport");
  });

  it("takes --transport from the flag, then TQD_TRANSPORT", () => {
    expect(resolve("h.ts", { queue: ["q"], transport: "http" }).transport).toBe("http");
    expect(resolve("h.ts", { queue: ["q"] }, { TQD_TRANSPORT: "http" }).transport).toBe("http");
    expect(resolve("h.ts", { queue: ["q"], transport: "stream" }, { TQD_TRANSPORT: "http" }).transport).toBe("stream");
  });

  it("reads --rate as tasks per second, keeps --queue-rate as given for the wire, and --host over the default", () => {
    const config = resolve("h.ts", { queue: ["q"], rate: "300/m", queueRate: " 10/s ", host: "web-7" });
    expect(config).toMatchObject({ ratePerSecond: 5, queueRate: "10/s", host: "web-7" });
    expect(resolve("h.ts", { queue: ["q"], rate: "0.5/s" }).ratePerSecond).toBe(0.5);
    expect(resolve("h.ts", { queue: ["q"], pollWait: "1s" }).pollWaitMs).toBe(1_000);
  });

  it("parses --grace durations, and 0 for no grace", () => {
    expect(parseGraceMs("0")).toBe(0);
    expect(parseGraceMs("1.5s")).toBe(1_500);
    expect(parseGraceMs("2m")).toBe(120_000);
  });

  it("uses the protocol's duration grammar", () => {
    for (const text of ["250ms", "30s", "1.5s", "5m", "1h", "1d"]) expect(parseGraceMs(text)).toBe(parseDuration(text));
  });
});
