/**
 * One workflow function, suspended between activations, and the `ctx` it runs with. An
 * activation starts the function (the first one) or applies resolution events (an activity's
 * end, a timer, a signal, a session's creation or failure) to the promises the code waits on,
 * then drains: it waits one macrotask turn, by which time every promise job has run, so the
 * code has run until it is blocked on `ctx` promises again. What the code asked for meanwhile
 * are the activation's commands. Nothing here does I/O: replaying and answering are the
 * callers' business (execution-replay.ts, workflow-task-runner.ts).
 */
import { parseDuration, workflowCommandSchema, type WorkflowCommand, type WorkflowCommandParsed, type WorkflowEvent } from "../../protocol/index.ts";
import { describeError, taskErrorFrom } from "../task-outcome.ts";
import { handled, PendingOperations, type Operation } from "./pending-operations.ts";
import { SeededRandom } from "./seeded-random.ts";
import { SignalInbox } from "./signal-inbox.ts";
import {
  ActivityFailedError,
  SessionFailedError,
  type ActivityEndState,
  type ActivityOptions,
  type Session,
  type SessionOptions,
  type Workflow,
  type WorkflowContext,
} from "./workflow-api.ts";
import { WorkflowSession, type SessionCommands } from "./workflow-session.ts";

/** A command the code issued: the wire form to send, the parsed form to match against history. */
export interface IssuedCommand {
  wire: WorkflowCommand;
  parsed: WorkflowCommandParsed;
}

export type StartedEvent = Extract<WorkflowEvent, { kind: "workflow.started" }>;

interface SessionRecord {
  queue: string;
  state: "open" | "failed" | "completed";
  failure: SessionFailedError | undefined;
  /** Seqs of its activities still pending. */
  activities: Set<number>;
}

export class WorkflowExecution implements SessionCommands {
  readonly context: WorkflowContext;
  private nextSeq = 1;
  private issued: IssuedCommand[] = [];
  /** True while an activation runs: `ctx` calls outside of one break determinism. */
  private active = false;
  private started = false;
  /** The code returned or threw: its completeWorkflow or failWorkflow was issued. */
  private closed = false;
  /** `ctx.now()`, epoch ms. */
  private nowMs = 0;
  private random = new SeededRandom(0);
  private readonly pending = new PendingOperations();
  private readonly sessions = new Map<number, SessionRecord>();
  private readonly signals = new SignalInbox();
  private misuseText: string | undefined;

  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
    private readonly workflow: Workflow,
  ) {
    this.context = this.buildContext();
  }

  get isStarted(): boolean {
    return this.started;
  }

  /**
   * Set when the code used `ctx` between activations (it awaited something that is not a
   * `ctx` promise): its state no longer follows from history, so it must not be continued.
   */
  get misuse(): string | undefined {
    return this.misuseText;
  }

  /**
   * Runs one activation at time `atMs` (what `ctx.now()` says): starts the function with
   * `start`'s input if given, applies `events` in order, drains, and returns the commands the
   * code issued, in order.
   */
  async activate(events: readonly WorkflowEvent[], atMs: number, start?: StartedEvent): Promise<IssuedCommand[]> {
    this.issued = [];
    this.nowMs = atMs;
    this.active = true;
    try {
      if (start) this.start(start);
      for (const event of events) this.apply(event);
      // A macrotask runs only once every promise job has: the code is blocked on ctx promises.
      await new Promise<void>((resolve) => setImmediate(resolve));
    } finally {
      this.active = false;
    }
    return this.issued;
  }

  /** What the code waits for, in words (describe and explain show it). */
  blockedOn(): string[] {
    return this.pending.describe(this.signals.awaitedNames());
  }

  /** The server's fire time of a timer (from its `timer.started` event), for `blockedOn`. */
  noteTimerFireAt(seq: number, fireAtMs: number): void {
    this.pending.noteTimerFireAt(seq, fireAtMs);
  }

  private start(event: StartedEvent): void {
    this.started = true;
    this.random = new SeededRandom(event.randomSeed);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(this.workflow(this.context, event.input));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => this.finish(value),
      (error: unknown) => this.finishWithError(error),
    );
  }

  private finish(result: unknown): void {
    try {
      JSON.stringify(result);
    } catch (error) {
      this.finishWithError(new TypeError(`the workflow's result is not JSON: ${describeError(error)}`));
      return;
    }
    this.issueFinal(result === undefined ? { kind: "completeWorkflow" } : { kind: "completeWorkflow", result });
  }

  private finishWithError(thrown: unknown): void {
    const { type, message } = taskErrorFrom(thrown);
    this.issueFinal({ kind: "failWorkflow", error: { type, message } });
  }

  private issueFinal(command: WorkflowCommand): void {
    if (this.closed || !this.allowed("return from the workflow function")) return;
    const parsed = workflowCommandSchema.safeParse(command);
    // Only an oversized error could fail to parse; taskErrorFrom already cuts it to the limits.
    if (!parsed.success) return;
    this.closed = true;
    this.issued.push({ wire: command, parsed: parsed.data });
  }

  // ---- resolution events --------------------------------------------------------------------

  private apply(event: WorkflowEvent): void {
    switch (event.kind) {
      case "activity.completed":
        this.take(event.seq, "activity")?.settle.resolve(event.result);
        return;
      case "activity.failed": {
        const activity = this.take(event.seq, "activity");
        if (activity) {
          activity.settle.reject(new ActivityFailedError(activity.type, event.seq, endState(event.state), event.error.type, event.error.message));
        }
        return;
      }
      case "timer.fired":
        this.take(event.seq, "timer")?.settle.resolve(undefined);
        return;
      case "signal.received":
        this.signals.deliver(event.name, event.payload);
        return;
      case "session.created":
        this.sessionCreated(event.seq, event.worker, event.workerQueue);
        return;
      case "session.failed":
        this.sessionFailed(event.seq, event.error.message);
        return;
      default:
        // Command events and workflow task markers resolve nothing.
        return;
    }
  }

  /** Removes what `seq` waits for (see PendingOperations.take), and an activity from its session. */
  private take<K extends Operation["kind"]>(seq: number, kind: K) {
    const operation = this.pending.take(seq, kind);
    const session = operation && "session" in operation ? operation.session : undefined;
    if (session !== undefined) this.sessions.get(session)?.activities.delete(seq);
    return operation;
  }

  private sessionCreated(seq: number, worker: string, workerQueue: string): void {
    const creation = this.take(seq, "session");
    if (!creation) return;
    this.sessions.set(seq, { queue: creation.queue, state: "open", failure: undefined, activities: new Set() });
    creation.settle.resolve(new WorkflowSession(this, seq, creation.queue, worker, workerQueue));
  }

  private sessionFailed(seq: number, reason: string): void {
    const creation = this.take(seq, "session");
    if (creation) {
      const failure = new SessionFailedError(seq, creation.queue, `session on "${creation.queue}" (seq ${seq}) failed: ${reason}`);
      this.sessions.set(seq, { queue: creation.queue, state: "failed", failure, activities: new Set() });
      creation.settle.reject(failure);
      return;
    }
    const session = this.sessions.get(seq);
    if (!session || session.state !== "open") return;
    session.state = "failed";
    session.failure = new SessionFailedError(seq, session.queue, `session on "${session.queue}" (seq ${seq}) failed: ${reason}`);
    for (const activitySeq of [...session.activities]) this.take(activitySeq, "activity")?.settle.reject(session.failure);
  }

  // ---- commands -----------------------------------------------------------------------------

  private buildContext(): WorkflowContext {
    return Object.freeze({
      workflowId: this.workflowId,
      workflowType: this.workflowType,
      activity: <Result>(type: string, input?: unknown, options?: ActivityOptions) => this.scheduleActivity<Result>(type, input, options, undefined),
      sleep: (duration: string | number) => this.sleep(duration),
      now: () => new Date(this.nowMs),
      random: () => (this.allowed("ctx.random()") ? this.random.next() : Number.NaN),
      uuid: () => (this.allowed("ctx.uuid()") ? this.random.uuid() : ""),
      signal: <Payload>(name: string) => (this.closed || !this.allowed(`ctx.signal("${name}")`) ? new Promise<Payload>(() => {}) : this.signals.next<Payload>(name)),
      createSession: (options: SessionOptions) => this.createSession(options),
    });
  }

  /** Schedules an activity, in session `session` if given (see Session.activity). */
  scheduleActivity<Result>(type: string, input: unknown, options: ActivityOptions | undefined, session: number | undefined): Promise<Result> {
    if (session !== undefined) {
      const record = this.sessions.get(session);
      if (record?.state !== "open") {
        const failure = record?.failure ?? new SessionFailedError(session, record?.queue ?? "", `session seq ${session} was completed; start a new session for more activities`);
        return handled(Promise.reject(failure));
      }
    }
    let command: WorkflowCommand = { kind: "scheduleActivity", seq: this.nextSeq, type };
    if (input !== undefined) command = { ...command, input };
    if (options !== undefined) command = { ...command, options };
    if (session !== undefined) command = { ...command, session };
    const problem = notJson(input, `the input of activity "${type}"`);
    if (problem) return handled(Promise.reject(problem));
    return this.issueAwaited<Result>(command, { kind: "activity", type, session });
  }

  private sleep(duration: string | number): Promise<void> {
    const durationMs = typeof duration === "number" ? (Number.isFinite(duration) && duration >= 0 ? Math.round(duration) : undefined) : parseDuration(String(duration));
    if (durationMs === undefined) {
      return handled(Promise.reject(new RangeError(`ctx.sleep expects a duration such as "30s" or a number of ms >= 0, got ${JSON.stringify(duration)}`)));
    }
    return this.issueAwaited<void>({ kind: "startTimer", seq: this.nextSeq, durationMs }, { kind: "timer", untilMs: this.nowMs + durationMs });
  }

  private createSession(options: SessionOptions): Promise<Session> {
    return this.issueAwaited<Session>({ kind: "createSession", seq: this.nextSeq, options }, { kind: "session", queue: options?.queue ?? "" });
  }

  /** Issues completeSession once for an open session (see Session.complete). */
  completeSession(seq: number): void {
    const session = this.sessions.get(seq);
    if (session?.state !== "open" || this.closed || !this.allowed("session.complete()")) return;
    const command: WorkflowCommand = { kind: "completeSession", seq };
    const parsed = workflowCommandSchema.safeParse(command);
    if (!parsed.success) return;
    session.state = "completed";
    this.issued.push({ wire: command, parsed: parsed.data });
  }

  /**
   * Validates `command` (which carries the next seq), issues it, and returns the promise its
   * resolution event settles. Invalid arguments reject at once and use no seq.
   */
  private issueAwaited<T>(command: WorkflowCommand, operation: Operation): Promise<T> {
    const parsed = workflowCommandSchema.safeParse(command);
    if (!parsed.success) return handled(Promise.reject(new TypeError(`invalid ${describeKind(command)}: ${issueText(parsed.error.issues)}`)));
    // After the workflow returned, or outside an activation, the call never settles.
    if (this.closed || !this.allowed(describeKind(command))) return new Promise<T>(() => {});
    const seq = this.nextSeq++;
    this.issued.push({ wire: command, parsed: parsed.data });
    if (operation.kind === "activity" && operation.session !== undefined) this.sessions.get(operation.session)?.activities.add(seq);
    return this.pending.add<T>(seq, operation);
  }

  /** True inside an activation; otherwise records the misuse (see `misuse`). */
  private allowed(what: string): boolean {
    if (this.active) return true;
    this.misuseText ??= `the workflow code called ${what} while it was not being run by the worker: workflow code may await only ctx promises (activities, timers, signals, sessions)`;
    return false;
  }
}

function endState(state: string): ActivityEndState {
  return state === "timed_out" || state === "canceled" ? state : "failed";
}

function notJson(value: unknown, what: string): TypeError | undefined {
  if (value === undefined) return undefined;
  try {
    JSON.stringify(value);
    return undefined;
  } catch (error) {
    return new TypeError(`${what} is not JSON: ${describeError(error)}`);
  }
}

function describeKind(command: WorkflowCommand): string {
  switch (command.kind) {
    case "scheduleActivity":
      return `ctx.activity("${command.type}")`;
    case "startTimer":
      return "ctx.sleep()";
    case "createSession":
      return "ctx.createSession()";
    default:
      return command.kind;
  }
}

function issueText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return "invalid arguments";
  return issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message;
}
