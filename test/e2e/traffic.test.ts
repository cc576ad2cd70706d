/** Traffic routing through the compiled binary: header rules, percentages, guards, fallback, rollback. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../support/temp-dir.ts";
import { eventually, runTqd, startDaemon, startTqd } from "../support/tqd-process.ts";

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function enqueueBatch(url: string, queue: string, tasks: object[]): Promise<{ id: string; routedTo?: string }[]> {
  const out: { id: string; routedTo?: string }[] = [];
  for (let i = 0; i < tasks.length; i += 1_000) {
    const response = await fetch(`${url}/v1/queues/${encodeURIComponent(queue)}/tasks/batch`, { method: "POST", body: JSON.stringify({ tasks: tasks.slice(i, i + 1_000) }) });
    out.push(...((await response.json()) as { tasks: { id: string; routedTo?: string }[] }).tasks);
  }
  return out;
}

describe("traffic routing (binary)", () => {
  test("user=alice -> alice/ops takes only alice's tasks; removing the rule sends new ones to ops", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const log = join(dir.path, "ran.log");
    const exec = `echo "$TQD_QUEUE $TQD_TASK_ID" >> ${log}`;
    await using aliceWorker = startTqd(["work", "--exec", exec, "--queue", "alice/ops", "--type", "t", ...server]);
    await using opsWorker = startTqd(["work", "--exec", exec, "--queue", "ops", "--type", "t", ...server]);
    await eventually(async () => ((await runTqd(["route", "add", "ops", "--to", "alice/ops", "--header", "user=alice", ...server])).code === 0 ? true : undefined), "the rule to be accepted once alice/ops has a poller");
    const alice = await enqueueBatch(daemon.url, "ops", Array.from({ length: 10 }, () => ({ type: "t", headers: { user: "alice" } })));
    const bob = await enqueueBatch(daemon.url, "ops", Array.from({ length: 10 }, () => ({ type: "t", headers: { user: "bob" } })));
    await eventually(() => (readLines(log).length === 20 ? true : undefined), "20 tasks to run");
    const ranOn = new Map(readLines(log).map((line) => [line.split(" ")[1]!, line.split(" ")[0]!]));
    for (const task of alice) expect(ranOn.get(task.id)).toBe("alice/ops");
    for (const task of bob) expect(ranOn.get(task.id)).toBe("ops");
    const listed = JSON.parse((await runTqd(["route", "ls", "ops", "--json", ...server])).stdout);
    expect(listed.rules[0]).toMatchObject({ id: "r1", to: "alice/ops", stats: { routed: 10, started: 10, fellBack: 0, stranded: 0 } });
    expect((await runTqd(["route", "rm", "ops", "r1", ...server])).code).toBe(0);
    const later = await enqueueBatch(daemon.url, "ops", Array.from({ length: 5 }, () => ({ type: "t", headers: { user: "alice" } })));
    await eventually(() => (readLines(log).length === 25 ? true : undefined), "5 more tasks to run");
    const after = new Map(readLines(log).map((line) => [line.split(" ")[1]!, line.split(" ")[0]!]));
    for (const task of later) expect(after.get(task.id)).toBe("ops");
    void aliceWorker;
    void opsWorker;
  });

  test("a 20 % rule over 10,000 tasks routes 20 +- 1.5 %, and one --by key always lands on one side", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    expect((await runTqd(["route", "add", "split", "--to", "canary", "--percent", "20", "--force", ...server])).code).toBe(0);
    const split = await enqueueBatch(daemon.url, "split", Array.from({ length: 10_000 }, () => ({ type: "t" })));
    const share = split.filter((task) => task.routedTo === "canary").length / 10_000;
    expect(share).toBeGreaterThanOrEqual(0.185);
    expect(share).toBeLessThanOrEqual(0.215);
    expect((await runTqd(["route", "add", "tenants", "--to", "canary", "--percent", "50", "--by", "tenant", "--force", ...server])).code).toBe(0);
    const tasks = Array.from({ length: 1_000 }, (_, n) => ({ type: "t", headers: { tenant: `tenant-${n % 100}` } }));
    const routed = await enqueueBatch(daemon.url, "tenants", tasks);
    const sides = new Map<string, Set<boolean>>();
    routed.forEach((task, n) => {
      const tenant = `tenant-${n % 100}`;
      sides.set(tenant, (sides.get(tenant) ?? new Set()).add(task.routedTo === "canary"));
    });
    for (const seen of sides.values()) expect(seen.size).toBe(1);
    const routedTenants = [...sides.values()].filter((seen) => seen.has(true)).length;
    expect(routedTenants).toBeGreaterThan(25);
    expect(routedTenants).toBeLessThan(75);
  });

  test("a rule to a queue with no poller is refused; forced, its tasks fall back and complete on ops; rollback restores", async () => {
    await using dir = await tempDir();
    await using daemon = await startDaemon(join(dir.path, "data"));
    const server = ["--server", daemon.url];
    const refused = await runTqd(["route", "add", "ops", "--to", "laptop", ...server]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("laptop");
    expect((await runTqd(["route", "add", "ops", "--to", "laptop", "--fallback-after", "1s", "--force", ...server])).code).toBe(0);
    await using opsWorker = startTqd(["work", "--exec", "echo done", "--queue", "ops", "--type", "t", ...server]);
    const ids = (await enqueueBatch(daemon.url, "ops", Array.from({ length: 5 }, () => ({ type: "t" })))).map((task) => task.id);
    for (const id of ids) {
      const waited = await runTqd(["wait", id, "--timeout", "20s", ...server]);
      expect(waited.code, waited.stderr).toBe(0);
      expect(JSON.parse((await runTqd(["get", id, "--json", ...server])).stdout)).toMatchObject({ queue: "ops", routedFrom: "ops", routeRuleId: "r1" });
    }
    const listed = JSON.parse((await runTqd(["route", "ls", "ops", "--json", ...server])).stdout);
    expect(listed.rules[0].stats).toMatchObject({ routed: 5, fellBack: 5, started: 0, stranded: 0 });

    expect((await runTqd(["route", "add", "ops", "--to", "elsewhere", "--type", "x", "--force", ...server])).code).toBe(0);
    expect((await runTqd(["route", "rollback", "ops", "1", "--force", ...server])).code).toBe(0);
    const rolled = JSON.parse((await runTqd(["route", "ls", "ops", "--json", ...server])).stdout);
    expect(rolled).toMatchObject({ version: 3 });
    expect(rolled.rules.map((rule: { id: string; to: string }) => [rule.id, rule.to])).toEqual([["r1", "laptop"]]);
    const history = await runTqd(["route", "history", "ops", "--json", ...server]);
    expect(JSON.parse(history.stdout).versions).toHaveLength(3);
    void opsWorker;
  });
});
