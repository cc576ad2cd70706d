import { describe, expect, it } from "vitest";
import { renderTaskHuman, renderTaskPlain } from "../../../cmd/admin/render-task.ts";
import { aTaskView } from "../../support/a-task-view.ts";

describe("renderTaskPlain", () => {
  it("prints `key value` lines in protocol order, leaving out absent fields", () => {
    expect(renderTaskPlain(aTaskView())).toBe(
      [
        "id task-1",
        "queue hello",
        "type greet",
        "state pending",
        "attempt 0",
        "createdAt 2024-06-01T12:00:00.000Z",
        "startToCloseTimeoutMs 300000",
        'input {"name":"Ada"}',
        "",
      ].join("\n"),
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
});

describe("renderTaskHuman", () => {
  it("aligns `key:` labels and shows the timeout as a duration", () => {
    const lines = renderTaskHuman(aTaskView({ error: { type: "Boom", message: "it broke" } })).split("\n");
    expect(lines).toContain("id:                  task-1");
    expect(lines).toContain("startToCloseTimeout: 5m");
    expect(lines).toContain("error:               Boom: it broke");
  });
});
