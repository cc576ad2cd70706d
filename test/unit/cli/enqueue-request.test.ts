/** The mapping of `tqd enqueue` flags to the protocol's EnqueueRequest, and the minted ids. */
import { describe, expect, it } from "vitest";
import { parseBackoff, parseRunAt } from "../../../cmd/admin/argument-parsers.ts";
import { buildEnqueueRequest, checkEnqueueFlagCombinations } from "../../../cmd/admin/enqueue-request.ts";
import { newTaskId } from "../../../cmd/admin/task-id.ts";
import { TASK_ID_PATTERN, enqueueRequestSchema } from "../../../lib/protocol/index.ts";

describe("buildEnqueueRequest", () => {
  it("sends only the type and the id when no flag is given, leaving defaults to the server", () => {
    expect(buildEnqueueRequest("greet", undefined, "id-1", {})).toEqual({ type: "greet", id: "id-1" });
  });

  it("keeps an input of null (given) apart from no input (absent)", () => {
    expect(buildEnqueueRequest("greet", { value: null }, "id-1", {})).toEqual({ type: "greet", id: "id-1", input: null });
  });

  it("maps every flag to its protocol field, and --retries N to N + 1 attempts", () => {
    const request = buildEnqueueRequest("charge", { value: { cents: 100 } }, "pay-1", {
      ifExists: "new",
      priority: 1,
      fairnessKey: "acme",
      at: "2026-10-01T12:00:00Z",
      timeoutStart: "1m",
      timeoutRun: "30s",
      timeoutTotal: "1h",
      heartbeat: "10s",
      retries: 4,
      backoff: { initialInterval: "1s", backoffCoefficient: 2, maxInterval: "1m" },
      nonRetryable: ["CardDeclined", "Fraud", "CardDeclined"],
    });
    expect(request).toEqual({
      type: "charge",
      id: "pay-1",
      input: { cents: 100 },
      ifExists: "new",
      priority: 1,
      fairnessKey: "acme",
      runAt: "2026-10-01T12:00:00Z",
      scheduleToStartTimeout: "1m",
      startToCloseTimeout: "30s",
      scheduleToCloseTimeout: "1h",
      heartbeatTimeout: "10s",
      retryPolicy: {
        maxAttempts: 5,
        initialInterval: "1s",
        backoffCoefficient: 2,
        maxInterval: "1m",
        nonRetryableErrorTypes: ["CardDeclined", "Fraud"],
      },
    });
    expect(enqueueRequestSchema.safeParse(request).success).toBe(true);
  });

  it("runs a task once with --retries 0", () => {
    expect(buildEnqueueRequest("t", undefined, "i", { retries: 0 }).retryPolicy).toEqual({ maxAttempts: 1 });
  });

  it("sends --delay as delay", () => {
    expect(buildEnqueueRequest("t", undefined, "i", { delay: "10m" })).toMatchObject({ delay: "10m" });
  });

  it("sends --header pairs as headers, and the fallback flags as they are", () => {
    const flags = { header: [["tenant", "acme"], ["tier", "a=b"]] as [string, string][], fallbackAfter: "30s", fallbackQueue: "files" };
    expect(buildEnqueueRequest("t", undefined, "i", flags)).toMatchObject({ headers: { tenant: "acme", tier: "a=b" }, fallbackAfter: "30s", fallbackQueue: "files" });
    expect("headers" in buildEnqueueRequest("t", undefined, "i", {})).toBe(false);
  });
});

describe("checkEnqueueFlagCombinations", () => {
  it("refuses --delay with --at, naming both", () => {
    expect(checkEnqueueFlagCombinations({ delay: "1s", at: "2026-10-01T12:00:00Z" }, "q")).toMatch(/--delay and --at/);
  });

  it("refuses --if-exists without --id", () => {
    expect(checkEnqueueFlagCombinations({ ifExists: "return" }, "q")).toMatch(/--if-exists needs --id/);
    expect(checkEnqueueFlagCombinations({ ifExists: "return", id: "x" }, "q")).toBeUndefined();
  });

  it("refuses a --header name given twice, and more than 32 headers", () => {
    expect(checkEnqueueFlagCombinations({ header: [["a", "1"], ["a", "2"]] }, "q")).toMatch(/--header a is given twice/);
    const many = Array.from({ length: 33 }, (_, index): [string, string] => [`h${index}`, "v"]);
    expect(checkEnqueueFlagCombinations({ header: many }, "q")).toMatch(/at most 32/);
  });

  it("refuses --fallback-queue without --fallback-after, and --fallback-after on a base queue without --fallback-queue", () => {
    expect(checkEnqueueFlagCombinations({ fallbackQueue: "files" }, "files@host:h1")).toMatch(/--fallback-queue needs --fallback-after/);
    expect(checkEnqueueFlagCombinations({ fallbackAfter: "30s" }, "files")).toMatch(/--fallback-after needs --fallback-queue/);
    expect(checkEnqueueFlagCombinations({ fallbackAfter: "30s", fallbackQueue: "files" }, "files")).toMatch(/name another one/);
    expect(checkEnqueueFlagCombinations({ fallbackAfter: "30s" }, "files@host:h1")).toBeUndefined();
    expect(checkEnqueueFlagCombinations({ fallbackAfter: "30s" }, "files@worker:h1:42")).toBeUndefined();
    expect(checkEnqueueFlagCombinations({ fallbackAfter: "30s", fallbackQueue: "other" }, "files")).toBeUndefined();
  });

  it("refuses more than 100 --non-retryable types", () => {
    const types = Array.from({ length: 101 }, (_, index) => `E${index}`);
    expect(checkEnqueueFlagCombinations({ nonRetryable: types }, "q")).toMatch(/--non-retryable/);
  });
});

describe("parseBackoff", () => {
  it("accepts INITIAL, INITIAL,COEFFICIENT and INITIAL,COEFFICIENT,MAX", () => {
    expect(parseBackoff("500ms")).toEqual({ initialInterval: "500ms" });
    expect(parseBackoff("1s,1.5")).toEqual({ initialInterval: "1s", backoffCoefficient: 1.5 });
    expect(parseBackoff("1s,2,1m")).toEqual({ initialInterval: "1s", backoffCoefficient: 2, maxInterval: "1m" });
    expect(parseBackoff("1s,,1m")).toEqual({ initialInterval: "1s", maxInterval: "1m" });
  });

  it.each([
    ["", /INITIAL\[,COEFFICIENT/],
    ["0s", /INITIAL '0s' is not a positive duration/],
    ["1s,0.9", /COEFFICIENT '0.9' must be a number from 1 to 100/],
    ["1s,x", /COEFFICIENT 'x'/],
    ["1s,2,0s", /MAX '0s'/],
    ["1m,2,30s", /MAX \(30s\) must not be below INITIAL \(1m\)/],
    ["1s,2,1m,4", /INITIAL\[,COEFFICIENT/],
  ])("refuses %j", (text, message) => {
    expect(() => parseBackoff(text)).toThrow(message);
  });
});

describe("parseRunAt", () => {
  it("accepts ISO 8601 times with a UTC offset", () => {
    expect(parseRunAt("2026-10-01T12:00:00Z")).toBe("2026-10-01T12:00:00Z");
    expect(parseRunAt("2026-10-01T14:00:00.250+02:00")).toBe("2026-10-01T14:00:00.250+02:00");
  });

  it.each(["tomorrow", "2026-10-01", "2026-10-01T12:00:00", "2026-02-30T12:00:00Z", "1790856000000"])("refuses %j", (text) => {
    expect(() => parseRunAt(text)).toThrow(/ISO 8601 time with a UTC offset/);
  });
});

describe("newTaskId", () => {
  it("is 10 characters of time and 16 of randomness, in Crockford base32", () => {
    const id = newTaskId(Date.UTC(2026, 9, 1));
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(TASK_ID_PATTERN.test(id)).toBe(true);
  });

  it("encodes the timestamp so that ids sort by creation time", () => {
    const zeros = () => new Uint8Array(10);
    expect(newTaskId(0, zeros)).toBe("0".repeat(26));
    expect(newTaskId(1, zeros).slice(0, 10)).toBe("0000000001");
    expect(newTaskId(32, zeros).slice(0, 10)).toBe("0000000010");
    const earlier = newTaskId(1_700_000_000_000);
    const later = newTaskId(1_700_000_000_001);
    expect(earlier < later).toBe(true);
  });

  it("turns all 80 random bits into the last 16 characters", () => {
    expect(newTaskId(0, () => new Uint8Array(10).fill(0xff)).slice(10)).toBe("Z".repeat(16));
    expect(newTaskId(0, () => Uint8Array.from([0x08, 0, 0, 0, 0, 0, 0, 0, 0, 1])).slice(10)).toBe("1000000000000001");
  });

  it("differs between two calls in the same millisecond", () => {
    expect(newTaskId(5)).not.toBe(newTaskId(5));
  });
});
