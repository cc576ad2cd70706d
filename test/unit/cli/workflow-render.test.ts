import { describe, expect, it } from "vitest";
import { renderHistoryHuman, renderHistoryPlain } from "../../../cmd/admin/render-workflow-history.ts";
import {
  isNondeterminism,
  renderWorkflowExplain,
  renderWorkflowHuman,
  renderWorkflowListHuman,
  renderWorkflowListPlain,
  renderWorkflowPlain,
} from "../../../cmd/admin/render-workflow.ts";
import { workflowEventSchema, type WorkflowEvent, type WorkflowView } from "../../../lib/protocol/index.ts";

const NOW_MS = Date.parse("2026-06-01T12:00:10.000Z");

function aWorkflowView(overrides: Partial<WorkflowView> = {}): WorkflowView {
  return {
    id: "wf-1",
    type: "fileProcessing",
    queue: "files",
    state: "running",
    input: { name: "a.csv" },
    createdAt: "2026-06-01T12:00:00.000Z",
    lastEventId: 9,
    pendingActivities: [],
    timers: [],
    sessions: [],
    blockedOn: [],
    ...overrides,
  };
}

const BUSY = aWorkflowView({
  workflowTask: { id: "wt-3", queue: "files@worker:w1", state: "pending", attempt: 2, error: { type: "Timeout", message: "no answer" } },
  pendingActivities: [
    { seq: 2, type: "process", taskId: "act-2", queue: "files@worker:w1", state: "running", attempt: 1, session: 1 },
    { seq: 3, type: "notify", taskId: "act-3", queue: "mail", state: "scheduled", attempt: 2 },
  ],
  timers: [{ seq: 4, fireAt: "2026-06-01T12:00:15.000Z" }],
  sessions: [
    { seq: 1, queue: "files", state: "open", worker: "web 1:42", workerQueue: "files@worker:w1" },
    { seq: 5, queue: "files", state: "requested" },
  ],
  blockedOn: ["activity process (seq 2)", "timer seq 4"],
});

const NONDETERMINISTIC = aWorkflowView({
  workflowTask: {
    id: "wt-7",
    queue: "files",
    state: "scheduled",
    attempt: 4,
    error: { type: "nondeterminism", message: 'replay issued activity "upload" (seq 3) where history has activity "process" (seq 3)' },
  },
});

describe("renderWorkflowPlain", () => {
  it("prints key value lines, then one line per live part, first word naming it", () => {
    expect(renderWorkflowPlain(BUSY)).toBe(
      [
        "id wf-1",
        "type fileProcessing",
        "queue files",
        "state running",
        "createdAt 2026-06-01T12:00:00.000Z",
        "lastEventId 9",
        'input {"name":"a.csv"}',
        'workflowTask wt-3 files@worker:w1 pending 2 {"type":"Timeout","message":"no answer"}',
        "activity 2 process act-2 files@worker:w1 running 1 1",
        "activity 3 notify act-3 mail scheduled 2 -",
        "timer 4 2026-06-01T12:00:15.000Z",
        'session 1 files open "web 1:42" files@worker:w1',
        "session 5 files requested - -",
        "blockedOn activity process (seq 2)",
        "blockedOn timer seq 4",
        "",
      ].join("\n"),
    );
  });

  it("adds a nondeterminism line a script can look for", () => {
    expect(renderWorkflowPlain(NONDETERMINISTIC)).toMatch(/^nondeterminism replay issued activity "upload" \(seq 3\) where history has/m);
    expect(renderWorkflowPlain(BUSY)).not.toMatch(/^nondeterminism/m);
  });

  it("shows the outcome of a closed workflow", () => {
    const failed = aWorkflowView({ state: "failed", closedAt: "2026-06-01T12:01:00.000Z", error: { type: "Boom", message: "disk\nfull" } });
    const text = renderWorkflowPlain(failed);
    expect(text).toContain("closedAt 2026-06-01T12:01:00.000Z\n");
    expect(text).toContain('error {"type":"Boom","message":"disk\\nfull"}\n');
    expect(text.split("\n")).toHaveLength(10);
  });
});

describe("renderWorkflowHuman", () => {
  it("summarizes the workflow and its workflow task, then tables of activities, timers and sessions", () => {
    const text = renderWorkflowHuman(BUSY, NOW_MS);
    expect(text).toMatch(/^workflow: +wf-1\n/);
    expect(text).toMatch(/^workflow task: +wt-3 on files@worker:w1, pending, attempt 2$/m);
    expect(text).toMatch(/^last task error: +Timeout: no answer$/m);
    expect(text).toMatch(/^pending activities:\n {2}SEQ +TYPE +TASK +QUEUE +STATE +ATTEMPT +SESSION\n {2}2 +process +act-2 +files@worker:w1 +running +1 +1\n/m);
    expect(text).toMatch(/^timers:\n {2}SEQ +FIRES AT +IN\n {2}4 +2026-06-01T12:00:15.000Z +5s\n/m);
    expect(text).toMatch(/^ {2}1 +files +open +web 1:42 +files@worker:w1$/m);
    expect(text).toMatch(/^blocked on:\n {2}- activity process \(seq 2\)\n {2}- timer seq 4\n$/m);
    expect(text).not.toMatch(/NONDETERMINISM/);
  });

  it("makes a nondeterminism stand out, with what to do about it", () => {
    const text = renderWorkflowHuman(NONDETERMINISTIC, NOW_MS);
    expect(text).toMatch(/^! NONDETERMINISM: replay issued activity "upload" \(seq 3\)/m);
    expect(text).toMatch(/^! .*deploy code that replays this history/m);
    expect(text).not.toMatch(/last task error/);
  });

  it("says when nothing has reported what a running workflow waits for", () => {
    expect(renderWorkflowHuman(aWorkflowView(), NOW_MS)).toMatch(/^blocked on: nothing reported yet/m);
  });

  it("prints a completed workflow's result (null without one) and no blocked-on section", () => {
    const text = renderWorkflowHuman(aWorkflowView({ state: "completed", closedAt: "2026-06-01T12:01:00.000Z" }), NOW_MS);
    expect(text).toMatch(/^result: +null$/m);
    expect(text).not.toMatch(/blocked on/);
  });

  it("marks timers already due", () => {
    const text = renderWorkflowHuman(aWorkflowView({ timers: [{ seq: 1, fireAt: "2026-06-01T12:00:00.000Z" }] }), NOW_MS);
    expect(text).toMatch(/^ {2}1 +2026-06-01T12:00:00.000Z +due$/m);
  });
});

describe("isNondeterminism", () => {
  it("recognizes the error by its type, in any case", () => {
    expect(isNondeterminism({ type: "nondeterminism", message: "x" })).toBe(true);
    expect(isNondeterminism({ type: "NondeterminismError", message: "x" })).toBe(true);
    expect(isNondeterminism({ type: "Error", message: "nondeterminism" })).toBe(false);
    expect(isNondeterminism(undefined)).toBe(false);
  });
});

const EVENTS: WorkflowEvent[] = [
  { id: 1, at: "2026-06-01T12:00:00.000Z", kind: "workflow.started", type: "fileProcessing", queue: "files", input: { name: "a b.csv" }, randomSeed: 7 },
  { id: 2, at: "2026-06-01T12:00:00.100Z", kind: "workflowTask.completed", seenUpTo: 1, worker: "web-1:42", mode: "fresh" },
  { id: 3, at: "2026-06-01T12:00:00.100Z", kind: "activity.scheduled", seq: 1, type: "download", queue: "files", taskId: "act-1" },
  { id: 4, at: "2026-06-01T12:00:01.000Z", kind: "activity.failed", seq: 1, state: "failed", error: { type: "Http", message: "503 from origin" } },
  { id: 5, at: "2026-06-01T12:00:01.100Z", kind: "timer.started", seq: 2, durationMs: 30_000, fireAt: "2026-06-01T12:00:31.100Z" },
  { id: 6, at: "2026-06-01T12:00:31.100Z", kind: "timer.fired", seq: 2 },
  { id: 7, at: "2026-06-01T12:00:32.000Z", kind: "signal.received", name: "approve", payload: { by: "ada" } },
  { id: 8, at: "2026-06-01T12:00:33.000Z", kind: "session.created", seq: 3, worker: "web 1", workerQueue: "files@worker:w1" },
  { id: 9, at: "2026-06-01T12:00:34.000Z", kind: "workflow.canceled", reason: "superseded by b" },
];

describe("renderHistoryPlain", () => {
  it("prints `ID AT KIND key=value ...` per event, names quoted only when they hold spaces", () => {
    expect(renderHistoryPlain(EVENTS)).toBe(
      [
        '1 2026-06-01T12:00:00.000Z workflow.started type=fileProcessing queue=files input={"name":"a b.csv"}',
        "2 2026-06-01T12:00:00.100Z workflowTask.completed worker=web-1:42 mode=fresh seenUpTo=1",
        "3 2026-06-01T12:00:00.100Z activity.scheduled seq=1 type=download queue=files task=act-1",
        '4 2026-06-01T12:00:01.000Z activity.failed seq=1 state=failed error={"type":"Http","message":"503 from origin"}',
        "5 2026-06-01T12:00:01.100Z timer.started seq=2 durationMs=30000 fireAt=2026-06-01T12:00:31.100Z",
        "6 2026-06-01T12:00:31.100Z timer.fired seq=2",
        '7 2026-06-01T12:00:32.000Z signal.received name=approve payload={"by":"ada"}',
        '8 2026-06-01T12:00:33.000Z session.created seq=3 worker="web 1" workerQueue=files@worker:w1',
        '9 2026-06-01T12:00:34.000Z workflow.canceled reason="superseded by b"',
        "",
      ].join("\n"),
    );
  });

  it("has a line for every kind of event the protocol defines", () => {
    const kinds = workflowEventSchema.options.map((option) => option.shape.kind.value);
    const samples = kinds.map((kind) => ({ ...SAMPLE_FIELDS, id: 1, at: "t", kind }) as WorkflowEvent);
    for (const line of renderHistoryPlain(samples).trimEnd().split("\n")) expect(line).toMatch(/^1 t \S+/);
    expect(renderHistoryPlain(samples).trimEnd().split("\n")).toHaveLength(kinds.length);
  });
});

/** Every required field of every event kind, so one object stands in for any kind. */
const SAMPLE_FIELDS = {
  type: "t",
  queue: "q",
  randomSeed: 1,
  seenUpTo: 1,
  worker: "w",
  mode: "fresh",
  seq: 1,
  taskId: "x",
  state: "failed",
  error: { type: "E", message: "m" },
  durationMs: 1,
  fireAt: "t",
  name: "n",
  workerQueue: "q@worker:w",
};

describe("renderHistoryHuman", () => {
  it("prints a table with durations in units and errors as sentences", () => {
    const text = renderHistoryHuman(EVENTS);
    expect(text).toMatch(/^# +TIME +EVENT +DETAILS\n/);
    expect(text).toMatch(/^5 +2026-06-01T12:00:01.100Z +timer.started +seq=2 duration=30s fireAt=/m);
    expect(text).toMatch(/^4 .* error="Http: 503 from origin"$/m);
  });

  it("says so when there are no events (after --after)", () => {
    expect(renderHistoryHuman([])).toBe("no events\n");
  });
});

describe("workflow lists", () => {
  const workflows = [
    { id: "wf-2", type: "report", queue: "reports", state: "running" as const, createdAt: "2026-06-01T12:00:02.000Z" },
    { id: "wf-1", type: "report", queue: "reports", state: "completed" as const, createdAt: "2026-06-01T12:00:01.000Z", closedAt: "2026-06-01T12:00:05.000Z" },
  ];

  it("prints `ID TYPE QUEUE STATE CREATED_AT CLOSED_AT` per line in pipes", () => {
    expect(renderWorkflowListPlain(workflows)).toBe(
      "wf-2 report reports running 2026-06-01T12:00:02.000Z -\nwf-1 report reports completed 2026-06-01T12:00:01.000Z 2026-06-01T12:00:05.000Z\n",
    );
    expect(renderWorkflowListPlain([])).toBe("");
  });

  it("prints a table on a terminal", () => {
    expect(renderWorkflowListHuman(workflows)).toMatch(/^ID +TYPE +QUEUE +STATE +CREATED +CLOSED\nwf-2 +report/);
    expect(renderWorkflowListHuman([])).toBe("no workflows\n");
  });
});

describe("renderWorkflowExplain", () => {
  const answer = {
    id: "wf-1",
    state: "running" as const,
    reason: "activity",
    message: "workflow wf-1 waits for activity process (seq 2)",
    blockedOn: ["activity process (seq 2)"],
    pending: [{ taskId: "act-2", reason: "no_poller", message: "no worker polls files" }],
  };

  it("starts with the message line in both layouts, like a task's explanation", () => {
    expect(renderWorkflowExplain(answer, false)).toBe(
      "workflow wf-1 waits for activity process (seq 2)\nblockedOn activity process (seq 2)\npending act-2 no_poller no worker polls files\n",
    );
    expect(renderWorkflowExplain(answer, true)).toBe(
      "workflow wf-1 waits for activity process (seq 2)\n  waits for: activity process (seq 2)\n  task act-2: no worker polls files\n",
    );
  });
});
