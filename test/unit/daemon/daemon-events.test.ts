/** The daemon's typed events: delivery, and `listening`, which the per-task events are built behind. */
import { describe, expect, test } from "vitest";
import { DaemonEvents } from "../../../lib/daemon/daemon-events.ts";

describe("DaemonEvents", () => {
  test("listening is true only while a listener is on, and emit reaches it then", () => {
    const events = new DaemonEvents();
    const seen: string[] = [];
    expect(events.listening("task.dispatched")).toBe(false);
    const off = events.on("task.dispatched", (event) => seen.push(`${event.id}@${event.attempt}`));
    expect(events.listening("task.dispatched")).toBe(true);
    expect(events.listening("task.finished")).toBe(false);
    events.emit("task.dispatched", { id: "t1", queue: "q", attempt: 1, worker: "w" });
    off();
    expect(events.listening("task.dispatched")).toBe(false);
    events.emit("task.dispatched", { id: "t2", queue: "q", attempt: 1, worker: "w" });
    expect(seen).toEqual(["t1@1"]);
  });

  test("a waiter from next() listens until its event comes, then not", async () => {
    const events = new DaemonEvents();
    const waited = events.next("task.finished", (event) => event.id === "b");
    expect(events.listening("task.finished")).toBe(true);
    events.emit("task.finished", { id: "a", queue: "q", state: "completed" });
    expect(events.listening("task.finished")).toBe(true);
    events.emit("task.finished", { id: "b", queue: "q", state: "failed" });
    await expect(waited).resolves.toEqual({ id: "b", queue: "q", state: "failed" });
    expect(events.listening("task.finished")).toBe(false);
  });
});
