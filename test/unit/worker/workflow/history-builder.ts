/**
 * Hand-written workflow histories for the replay tests, and `recordAnswer`, which appends what
 * the server appends for an answer (the marker and one command event per command), so a test
 * can play server: run an activation, record it, add resolution events, continue.
 */
import type { WorkflowCommand, WorkflowEvent } from "../../../../lib/protocol/index.ts";
import type { Activation } from "../../../../lib/worker/index.ts";

/** Event ids start at 1; event N happened at BASE_MS + N seconds. */
export const BASE_MS = Date.UTC(2030, 0, 1);

export function atOf(id: number): string {
  return new Date(BASE_MS + id * 1_000).toISOString();
}

type EventBody = WorkflowEvent extends infer E ? (E extends WorkflowEvent ? Omit<E, "id" | "at"> : never) : never;

export class HistoryBuilder {
  readonly events: WorkflowEvent[] = [];

  get lastId(): number {
    return this.events.at(-1)?.id ?? 0;
  }

  add(body: EventBody): this {
    const id = this.lastId + 1;
    this.events.push({ ...body, id, at: atOf(id) } as WorkflowEvent);
    return this;
  }

  started(input?: unknown, randomSeed = 42): this {
    return this.add({ kind: "workflow.started", type: "wf", queue: "q", input, randomSeed });
  }

  marker(seenUpTo = this.lastId): this {
    return this.add({ kind: "workflowTask.completed", seenUpTo, worker: "w", mode: "fresh" });
  }

  scheduled(seq: number, type: string, session?: number): this {
    return this.add({ kind: "activity.scheduled", seq, type, queue: "q", taskId: `act-${seq}`, ...(session === undefined ? {} : { session }) });
  }

  completed(seq: number, result?: unknown): this {
    return this.add({ kind: "activity.completed", seq, result });
  }

  activityFailed(seq: number, state = "failed", type = "Boom", message = "it broke"): this {
    return this.add({ kind: "activity.failed", seq, state, error: { type, message } });
  }

  timerStarted(seq: number, durationMs: number): this {
    return this.add({ kind: "timer.started", seq, durationMs, fireAt: new Date(BASE_MS + (this.lastId + 1) * 1_000 + durationMs).toISOString() });
  }

  fired(seq: number): this {
    return this.add({ kind: "timer.fired", seq });
  }

  signal(name: string, payload?: unknown): this {
    return this.add({ kind: "signal.received", name, payload });
  }

  sessionRequested(seq: number, queue = "files"): this {
    return this.add({ kind: "session.requested", seq, queue, taskId: `session-${seq}` });
  }

  sessionCreated(seq: number, worker = "w1", queue = "files"): this {
    return this.add({ kind: "session.created", seq, worker, workerQueue: `${queue}@worker:${worker}` });
  }

  sessionFailed(seq: number, message = "the session's worker w1 stopped heartbeating"): this {
    return this.add({ kind: "session.failed", seq, error: { type: "SessionFailed", message } });
  }

  sessionCompleted(seq: number): this {
    return this.add({ kind: "session.completed", seq });
  }

  /** What the server appends when it records `activation`'s answer. */
  recordAnswer(activation: Activation): this {
    this.marker(activation.seenUpTo);
    for (const command of activation.commands) this.add(eventOf(command, this.lastId + 1));
    return this;
  }

  /** Events with ids above `after`. */
  after(after: number): WorkflowEvent[] {
    return this.events.filter((event) => event.id > after);
  }
}

export function history(): HistoryBuilder {
  return new HistoryBuilder();
}

function eventOf(command: WorkflowCommand, id: number): EventBody {
  switch (command.kind) {
    case "scheduleActivity":
      return { kind: "activity.scheduled", seq: command.seq, type: command.type, queue: command.options?.queue ?? "q", taskId: `act-${command.seq}`, ...(command.session === undefined ? {} : { session: command.session }) };
    case "startTimer":
      return { kind: "timer.started", seq: command.seq, durationMs: command.durationMs, fireAt: new Date(BASE_MS + id * 1_000 + command.durationMs).toISOString() };
    case "createSession":
      return { kind: "session.requested", seq: command.seq, queue: command.options.queue, taskId: `session-${command.seq}` };
    case "completeSession":
      return { kind: "session.completed", seq: command.seq };
    case "completeWorkflow":
      return { kind: "workflow.completed", result: command.result };
    case "failWorkflow":
      return { kind: "workflow.failed", error: command.error };
  }
}
