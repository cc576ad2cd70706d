/**
 * How `tqd workflow history` shows events: one line per event, oldest first.
 * - plain (pipes): `ID AT KIND key=value ...`. Names and ids are bare unless they hold spaces or
 *   quotes (then JSON-quoted); payloads (input, result, payload) and errors are one-line JSON, so
 *   an event is always one line (`--json` is the form to parse).
 * - human (TTY): a table `#  TIME  EVENT  DETAILS`, payloads cut to a readable length and errors
 *   as `Type: message`.
 */
import { formatDuration, type TaskError, type WorkflowEvent } from "../../lib/protocol/index.ts";
import { describeWorkflowError } from "./render-workflow.ts";
import { escapeColumn, renderTable, truncate } from "./text-layout.ts";

/** An attribute value: a name or number, a JSON payload, an error, or a duration in ms. */
type Attribute = { text: string } | { json: unknown } | { error: TaskError } | { durationMs: number };

const text = (value: string | number): Attribute => ({ text: String(value) });

/** The salient attributes of an event, in display order; absent optional ones are left out. */
export function eventAttributes(event: WorkflowEvent): [string, Attribute][] {
  const attributes: [string, Attribute | undefined][] = (() => {
    switch (event.kind) {
      case "workflow.started":
        return [["type", text(event.type)], ["queue", text(event.queue)], ["input", payload(event.input)]];
      case "workflowTask.completed":
        return [["worker", text(event.worker)], ["mode", text(event.mode)], ["seenUpTo", text(event.seenUpTo)]];
      case "activity.scheduled":
        return [
          ["seq", text(event.seq)],
          ["type", text(event.type)],
          ["queue", text(event.queue)],
          ["task", text(event.taskId)],
          ["session", event.session === undefined ? undefined : text(event.session)],
        ];
      case "activity.completed":
        return [["seq", text(event.seq)], ["result", payload(event.result)]];
      case "activity.failed":
        return [["seq", text(event.seq)], ["state", text(event.state)], ["error", { error: event.error }]];
      case "timer.started":
        return [["seq", text(event.seq)], ["duration", { durationMs: event.durationMs }], ["fireAt", text(event.fireAt)]];
      case "timer.fired":
      case "session.completed":
        return [["seq", text(event.seq)]];
      case "signal.received":
        return [["name", text(event.name)], ["payload", payload(event.payload)]];
      case "session.requested":
        return [["seq", text(event.seq)], ["queue", text(event.queue)], ["task", text(event.taskId)]];
      case "session.created":
        return [["seq", text(event.seq)], ["worker", text(event.worker)], ["workerQueue", text(event.workerQueue)]];
      case "session.failed":
        return [["seq", text(event.seq)], ["error", { error: event.error }]];
      case "workflow.completed":
        return [["result", payload(event.result)]];
      case "workflow.failed":
        return [["error", { error: event.error }]];
      case "workflow.canceled":
        return [["reason", event.reason === undefined ? undefined : text(event.reason)]];
    }
  })();
  return attributes.filter((entry): entry is [string, Attribute] => entry[1] !== undefined);
}

function payload(value: unknown): Attribute | undefined {
  return value === undefined ? undefined : { json: value };
}

function plainValue(attribute: Attribute): string {
  if ("text" in attribute) return escapeColumn(attribute.text);
  if ("json" in attribute) return JSON.stringify(attribute.json);
  if ("error" in attribute) return JSON.stringify(attribute.error);
  return String(attribute.durationMs);
}

/** Longest payload in a human table cell. */
const HUMAN_PAYLOAD_CHARS = 80;

function humanValue(attribute: Attribute): string {
  if ("text" in attribute) return escapeColumn(attribute.text);
  if ("json" in attribute) return truncate(JSON.stringify(attribute.json), HUMAN_PAYLOAD_CHARS);
  if ("error" in attribute) return JSON.stringify(truncate(describeWorkflowError(attribute.error), HUMAN_PAYLOAD_CHARS));
  return formatDuration(attribute.durationMs);
}

/** `ID AT KIND key=value ...` per event (plain `duration` is in ms: `durationMs=...`). */
export function renderHistoryPlain(events: readonly WorkflowEvent[]): string {
  return events
    .map((event) => {
      const attributes = eventAttributes(event).map(([key, value]) => `${"durationMs" in value ? "durationMs" : key}=${plainValue(value)}`);
      return [String(event.id), event.at, event.kind, ...attributes].join(" ") + "\n";
    })
    .join("");
}

export function renderHistoryHuman(events: readonly WorkflowEvent[]): string {
  if (events.length === 0) return "no events\n";
  const rows = events.map((event) => [
    String(event.id),
    event.at,
    event.kind,
    eventAttributes(event)
      .map(([key, value]) => `${key}=${humanValue(value)}`)
      .join(" "),
  ]);
  return renderTable([["#", "TIME", "EVENT", "DETAILS"], ...rows], { align: ["right"] });
}
