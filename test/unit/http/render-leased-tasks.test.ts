import { describe, expect, it } from "vitest";
import type { LiveTask } from "../../../lib/core/index.ts";
import { renderLeasedTasks } from "../../../lib/http/render-task.ts";

/** The fields a poll answer renders, as a leased task has them. */
function leased(id: string, deadline: number): LiveTask {
  return { id, queue: "q", type: "t", inputJson: "{}", attempt: 1, priority: 3, lease: { token: `token-${id}`, deadline }, options: {}, heartbeatJson: undefined, headers: undefined } as unknown as LiveTask;
}

describe("poll answers", () => {
  it("give each leased task its own lease deadline, shared or not (the last one's text is reused)", () => {
    const at = Date.UTC(2030, 0, 1, 12, 0, 0);
    const answer = (tasks: LiveTask[]) => (JSON.parse(renderLeasedTasks(tasks)) as { tasks: { id: string; leaseDeadline: string }[] }).tasks.map((task) => [task.id, task.leaseDeadline]);
    expect(answer([leased("a", at), leased("b", at), leased("c", at + 1), leased("d", at)])).toEqual([
      ["a", "2030-01-01T12:00:00.000Z"],
      ["b", "2030-01-01T12:00:00.000Z"],
      ["c", "2030-01-01T12:00:00.001Z"],
      ["d", "2030-01-01T12:00:00.000Z"],
    ]);
    expect(answer([leased("e", at + 60_000)])).toEqual([["e", "2030-01-01T12:01:00.000Z"]]);
  });
});
