import { describe, expect, it } from "vitest";
import { renderTaskHuman, renderTaskPlain } from "../../../cmd/admin/render-task.ts";
import type { AttemptView } from "../../../lib/protocol/index.ts";
import { aTaskView } from "../../support/a-task-view.ts";

const RETRY_POLICY_JSON = '{"initialIntervalMs":1000,"backoffCoefficient":2,"maxIntervalMs":100000,"maxAttempts":10,"nonRetryableErrorTypes":[]}';

const ATTEMPTS: AttemptView[] = [
  {
    attempt: 1,
    worker: "host-1",
    startedAt: "2024-06-01T12:00:01.000Z",
    endedAt: "2024-06-01T12:00:02.000Z",
    outcome: "failed",
    error: { type: "Flaky", message: "try again" },
  },
  { attempt: 2, worker: "host 2", startedAt: "2024-06-01T12:00:04.000Z", outcome: "running" },
];

describe("renderTaskPlain", () => {
  it("prints `key value` lines in protocol order, leaving out absent fields", () => {
    expect(renderTaskPlain(aTaskView())).toBe(
      [
        "id task-1",
        "queue hello",
        "type greet",
        "state pending",
        "priority 3",
        "attempt 0",
        "createdAt 2024-06-01T12:00:00.000Z",
        "startToCloseTimeoutMs 300000",
        `retryPolicy ${RETRY_POLICY_JSON}`,
        'input {"name":"Ada"}',
        "",
      ].join("\n"),
    );
  });

  it("prints the scheduling and lifecycle fields a task has", () => {
    const text = renderTaskPlain(
      aTaskView({
        state: "scheduled",
        runAt: "2024-06-01T13:00:00.000Z",
        cancelRequested: true,
        scheduleToStartTimeoutMs: 60_000,
        scheduleToCloseTimeoutMs: 3_600_000,
        heartbeatTimeoutMs: 30_000,
      }),
    );
    expect(text).toContain("\ncancelRequested true\n");
    expect(text).toContain("\ncreatedAt 2024-06-01T12:00:00.000Z\nrunAt 2024-06-01T13:00:00.000Z\n");
    expect(text).toContain(
      "\nscheduleToStartTimeoutMs 60000\nstartToCloseTimeoutMs 300000\nscheduleToCloseTimeoutMs 3600000\nheartbeatTimeoutMs 30000\n",
    );
  });

  it("prints structured values as one-line JSON", () => {
    const text = renderTaskPlain(
      aTaskView({ state: "failed", error: { type: "ValueError", message: "bad\nname" }, result: [1, { a: 2 }] }),
    );
    expect(text).toContain('result [1,{"a":2}]\n');
    expect(text).toContain('error {"type":"ValueError","message":"bad\\nname"}\n');
  });

  it("JSON-escapes a worker identity that would break the one-field-per-line rule", () => {
    expect(renderTaskPlain(aTaskView({ worker: "host-1" }))).toContain("worker host-1\n");
    expect(renderTaskPlain(aTaskView({ worker: "evil\nstate completed" }))).toContain('worker "evil\\nstate completed"\n');
  });

  it("ends with one `attempts` line per attempt, escaping a worker with spaces", () => {
    const lines = renderTaskPlain(aTaskView({ state: "running", attempt: 2, attempts: ATTEMPTS })).trimEnd().split("\n");
    expect(lines.slice(-2)).toEqual([
      'attempts 1 host-1 2024-06-01T12:00:01.000Z 2024-06-01T12:00:02.000Z failed {"type":"Flaky","message":"try again"}',
      'attempts 2 "host 2" 2024-06-01T12:00:04.000Z - running',
    ]);
  });
});

describe("renderTaskHuman", () => {
  it("aligns `key:` labels and shows timeouts as durations and the retry policy in words", () => {
    const lines = renderTaskHuman(aTaskView({ error: { type: "Boom", message: "it broke", nonRetryable: true }, heartbeatTimeoutMs: 30_000 })).split("\n");
    expect(lines).toContain("id:                  task-1");
    expect(lines).toContain("startToCloseTimeout: 5m");
    expect(lines).toContain("heartbeatTimeout:    30s");
    expect(lines).toContain("retryPolicy:         10 attempts, backoff 1s x2 up to 100s");
    expect(lines).toContain("error:               Boom: it broke (non-retryable)");
  });

  it("names the non-retryable error types and a policy without retries", () => {
    const task = aTaskView({
      retryPolicy: { initialIntervalMs: 500, backoffCoefficient: 1.5, maxIntervalMs: 60_000, maxAttempts: 1, nonRetryableErrorTypes: ["A", "B"] },
    });
    expect(renderTaskHuman(task)).toContain("retryPolicy:         1 attempt (no retries), backoff 500ms x1.5 up to 1m, never retried: A, B\n");
  });

  it("shows the attempts as a table after the fields", () => {
    const text = renderTaskHuman(aTaskView({ state: "running", attempt: 2, attempts: ATTEMPTS }));
    expect(text.slice(text.indexOf("attempts:\n"))).toBe(
      [
        "attempts:",
        "  #  WORKER  STARTED                   ENDED                     OUTCOME  ERROR",
        "  1  host-1  2024-06-01T12:00:01.000Z  2024-06-01T12:00:02.000Z  failed   Flaky: try again",
        "  2  host 2  2024-06-01T12:00:04.000Z  -                         running",
        "",
      ].join("\n"),
    );
  });
});
