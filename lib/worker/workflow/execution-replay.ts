/**
 * The replay engine: drives a WorkflowExecution through a workflow's history, checks that the
 * code issues the commands the history recorded, and runs the next activation.
 *
 * A history is `workflow.started`, then resolution events (activity ends, timers fired,
 * signals, session created/failed) as they happened, and for each completed workflow task a
 * marker (`workflowTask.completed`, with the `seenUpTo` of the worker that answered) followed
 * by the command events recorded from its answer (every command becomes exactly one event).
 * Resolution events that arrived while a workflow task ran sit before its marker, with ids past
 * its `seenUpTo`.
 *
 * Activation k applies the resolution events with ids in (seenUpTo of k-1, seenUpTo of k],
 * with `ctx.now()` at the time of event #seenUpTo; the first one also starts the function.
 * Its commands must match, in order, the command events between marker k and marker k+1
 * (`commandMatchesEvent`); any difference is a NondeterminismError naming the first one.
 * After the last marker, one more activation applies everything up to the last event fetched,
 * which becomes the new `seenUpTo`; its commands are the answer.
 *
 * A cached execution continues the same way: it keeps the commands it sent, and the events
 * after its `seenUpTo` must contain its own marker (same `seenUpTo`, same commands) and no
 * other; anything else is a CachedStateMismatch and the caller replays from scratch.
 */
import { commandMatchesEvent, COMMAND_EVENT_KINDS, describeCommand, describeCommandEvent, type WorkflowCommand, type WorkflowEvent } from "../../protocol/index.ts";
import { NondeterminismError, type Workflow } from "./workflow-api.ts";
import { WorkflowExecution, type IssuedCommand, type StartedEvent } from "./workflow-execution.ts";

/** Events that settle what the code waits for; applied by activations. */
const RESOLUTION_KINDS: ReadonlySet<WorkflowEvent["kind"]> = new Set([
  "activity.completed",
  "activity.failed",
  "timer.fired",
  "signal.received",
  "session.created",
  "session.failed",
]);

/** The answer to one workflow task. */
export interface Activation {
  commands: WorkflowCommand[];
  /** The last event applied: the answer's `seenUpTo`. */
  seenUpTo: number;
  blockedOn: string[];
  /** The commands complete or fail the workflow. */
  closes: boolean;
}

/** A cached execution does not fit the history; replaying from scratch will. */
export class CachedStateMismatch extends Error {
  override readonly name = "CachedStateMismatch";
}

/** The history breaks its own rules (a server bug, or a corrupted store). */
export class InvalidHistoryError extends Error {
  override readonly name = "InvalidHistoryError";
}

export interface AdvanceOptions {
  /**
   * True when continuing a cached execution: a workflow task this execution did not answer
   * (another worker's) is a CachedStateMismatch rather than something to replay.
   */
  continuing: boolean;
}

export class ExecutionReplay {
  readonly execution: WorkflowExecution;
  /** The `seenUpTo` of the last activation run; 0 before the first. */
  private cursor = 0;
  /** The last activation's commands until the history shows them recorded. */
  private unmatched: IssuedCommand[] | undefined;
  /** Command events matched so far: numbers the commands in nondeterminism messages. */
  private matchedCommands = 0;
  /** `ctx.now()` of the last activation, epoch ms. */
  private lastAtMs = 0;

  constructor(workflowId: string, workflowType: string, workflow: Workflow) {
    this.execution = new WorkflowExecution(workflowId, workflowType, workflow);
  }

  /** The `seenUpTo` of the last activation: fetch history after it to continue. */
  get seenUpTo(): number {
    return this.cursor;
  }

  /**
   * Replays `events` (every event after `seenUpTo`, ascending) and runs the next activation.
   * Throws NondeterminismError, CachedStateMismatch or InvalidHistoryError.
   */
  async advance(events: readonly WorkflowEvent[], options: AdvanceOptions): Promise<Activation> {
    this.checkOrder(events);
    let next = 0;
    for (let i = 0; i < events.length; i++) {
      const marker = events[i]!;
      if (marker.kind !== "workflowTask.completed") continue;
      if (this.unmatched === undefined) {
        if (options.continuing) throw new CachedStateMismatch(`another worker answered a workflow task (event ${marker.id})`);
        if (marker.seenUpTo < this.cursor) throw new InvalidHistoryError(`workflow task marker ${marker.id} saw up to ${marker.seenUpTo}, before ${this.cursor}`);
        next = await this.activate(events, next, marker.seenUpTo);
      } else if (marker.seenUpTo !== this.cursor) {
        throw new CachedStateMismatch(`the marker at event ${marker.id} saw up to ${marker.seenUpTo}, not ${this.cursor}`);
      }
      this.match(this.unmatched!, recordedCommands(events, i));
      this.unmatched = undefined;
    }
    if (this.unmatched !== undefined) throw new CachedStateMismatch("the history does not record the last answer of this execution");
    const upTo = events.at(-1)?.id ?? this.cursor;
    if (upTo < 1) throw new InvalidHistoryError("the history is empty");
    await this.activate(events, next, upTo);
    const commands = this.unmatched!.map((command) => command.wire);
    const closes = commands.some((command) => command.kind === "completeWorkflow" || command.kind === "failWorkflow");
    return { commands, seenUpTo: this.cursor, blockedOn: closes ? [] : this.execution.blockedOn(), closes };
  }

  /**
   * Runs the activation that sees up to event `upTo`: the resolution events from index `from`
   * with ids in (cursor, upTo]. Returns the index of the first event past `upTo`.
   */
  private async activate(events: readonly WorkflowEvent[], from: number, upTo: number): Promise<number> {
    const batch: WorkflowEvent[] = [];
    let index = from;
    for (; index < events.length && events[index]!.id <= upTo; index++) {
      const event = events[index]!;
      const atMs = Date.parse(event.at);
      if (Number.isFinite(atMs)) this.lastAtMs = atMs;
      if (event.id > this.cursor && RESOLUTION_KINDS.has(event.kind)) batch.push(event);
    }
    let start: StartedEvent | undefined;
    if (!this.execution.isStarted) {
      const first = events[0];
      if (first?.kind !== "workflow.started") throw new InvalidHistoryError("the history does not begin with workflow.started");
      start = first;
    }
    this.unmatched = await this.execution.activate(batch, this.lastAtMs, start);
    this.cursor = upTo;
    return index;
  }

  /** Checks the activation's commands against the command events that recorded them. */
  private match(issued: readonly IssuedCommand[], recorded: readonly WorkflowEvent[]): void {
    for (let j = 0; j < Math.max(issued.length, recorded.length); j++) {
      const command = issued[j];
      const event = recorded[j];
      const at = `nondeterminism: at command ${this.matchedCommands + j + 1}`;
      if (command === undefined) throw new NondeterminismError(`${at} history has ${describeCommandEvent(event!)} but the code issued no command`);
      if (event === undefined) throw new NondeterminismError(`${at} history has no command but the code issued ${describeCommand(command.parsed)}`);
      if (!commandMatchesEvent(command.parsed, event)) {
        throw new NondeterminismError(`${at} history has ${describeCommandEvent(event)} but the code issued ${describeCommand(command.parsed)}`);
      }
      if (event.kind === "timer.started") this.execution.noteTimerFireAt(event.seq, Date.parse(event.fireAt));
    }
    this.matchedCommands += recorded.length;
  }

  private checkOrder(events: readonly WorkflowEvent[]): void {
    let previous = this.cursor;
    for (const event of events) {
      if (event.id <= previous) throw new InvalidHistoryError(`history event ${event.id} is out of order (after ${previous})`);
      previous = event.id;
    }
  }
}

/** The command events a marker's answer became: those after it, up to the next marker. */
function recordedCommands(events: readonly WorkflowEvent[], markerIndex: number): WorkflowEvent[] {
  const recorded: WorkflowEvent[] = [];
  for (let i = markerIndex + 1; i < events.length; i++) {
    const event = events[i]!;
    if (event.kind === "workflowTask.completed") break;
    if (COMMAND_EVENT_KINDS.has(event.kind)) recorded.push(event);
  }
  return recorded;
}
