/**
 * A model check of deep backlogs (lib/core/cold-tail.ts): seeded runs of random enqueues (two
 * types, three priorities, three fairness keys), polls for random type sets, completions,
 * cancels by id and restarts (a tenth of the tasks with a deadline, which keeps them in
 * memory in the middle of their line's cold range), against a daemon that keeps 8 live tasks in memory and at least 2 pending ones of each line
 * on a real SQLite file. After every step the daemon's counts match the model; every dispatch
 * is of a pending task of a polled type, none while a task of a polled type with a higher
 * priority waits, none ahead of an older task of its own line; at the end every task ran once.
 */
import { describe, expect, test } from "vitest";
import { Daemon, type EnqueueCommand } from "../../lib/daemon/index.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { WORKFLOW_NAMING } from "../../lib/protocol/index.ts";
import { openSqliteStore } from "../../lib/store/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { anOptions } from "../support/task-builders.ts";
import { tempDir } from "../support/temp-dir.ts";

interface ModelTask {
  id: string;
  n: number;
  type: string;
  priority: number;
  key: string | undefined;
  /** Has a schedule-to-start deadline, so it stays in memory (cold-tail.ts, mayGoCold). */
  pinned: boolean;
  state: "pending" | "running" | "completed" | "canceled";
  leaseToken?: string;
  runs: number;
}

const TYPES = ["a", "b"];
const PRIORITIES = [1, 3, 5];
const KEYS = [undefined, "x", "y"];

async function start(dataDir: string, clock: FakeClock): Promise<Daemon> {
  const store = await openSqliteStore({ dataDir, pid: 1 });
  return Daemon.start({ store, clock, log: silentLogger, naming: WORKFLOW_NAMING, hotTasks: 8, hotTasksPerLine: 2 });
}

async function run(seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  await using dir = await tempDir();
  const clock = new FakeClock();
  let daemon = await start(dir.path, clock);
  const tasks: ModelTask[] = [];
  const byId = new Map<string, ModelTask>();
  const lineOf = (t: ModelTask) => `${t.priority}|${t.key ?? ""}|${t.type}`;
  const where = (step: number, what: string) => `seed ${seed}, step ${step}: ${what}`;

  const dispatched = (leased: { id: string; inputJson?: string | undefined; lease?: { token: string } | undefined }[], types: readonly string[], step: number) => {
    const maxPriority = Math.max(...leased.map((l) => byId.get(l.id)!.priority));
    for (const l of leased) {
      const task = byId.get(l.id);
      expect(task, where(step, `unknown task ${l.id}`)).toBeDefined();
      expect(task!.state, where(step, `task ${task!.n} dispatched while ${task!.state}`)).toBe("pending");
      expect(types, where(step, `task ${task!.n} of type ${task!.type}`)).toContain(task!.type);
      expect(l.inputJson, where(step, `task ${task!.n}'s input`)).toBe(JSON.stringify({ n: task!.n }));
      // A task that stays in memory joins its line's tasks in memory, ahead of its cold ones.
      const older = task!.pinned ? undefined : tasks.find((t) => t.n < task!.n && t.state === "pending" && lineOf(t) === lineOf(task!) && !leased.some((o) => o.id === t.id));
      expect(older?.n, where(step, `task ${task!.n} went ahead of task ${older?.n} of its line`)).toBeUndefined();
      task!.state = "running";
      task!.leaseToken = l.lease!.token;
      task!.runs++;
    }
    const skipped = tasks.find((t) => t.state === "pending" && types.includes(t.type) && t.priority < maxPriority);
    expect(skipped?.n, where(step, `priority ${maxPriority} dispatched while task ${skipped?.n} of priority ${skipped?.priority} waited`)).toBeUndefined();
  };

  let mostInStore = 0;
  const checkCounts = (step: number) => {
    mostInStore = Math.max(mostInStore, daemon.metrics().tasksInStoreOnly);
    const pending = tasks.filter((t) => t.state === "pending").length;
    const running = tasks.filter((t) => t.state === "running").length;
    expect(daemon.queues.describe("q").counts, where(step, "counts")).toMatchObject({ pending, running });
    expect(daemon.metrics().liveTasks, where(step, "live tasks")).toBe(pending + running);
  };

  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.35) {
      const commands: EnqueueCommand[] = [];
      const made: ModelTask[] = [];
      for (let i = 1 + Math.floor(random() * 6); i > 0; i--) {
        const task: ModelTask = { id: "", n: tasks.length + made.length, type: pick(TYPES), priority: pick(PRIORITIES), key: pick(KEYS), pinned: random() < 0.1, state: "pending", runs: 0 };
        made.push(task);
        // The clock never moves: a schedule-to-start deadline never fires, it only pins the task.
        const options = anOptions({ startToCloseMs: 3_600_000, ...(task.pinned ? { scheduleToStartMs: 3_600_000 } : {}) });
        commands.push({ type: task.type, inputJson: JSON.stringify({ n: task.n }), priority: task.priority, fairnessKey: task.key, options });
      }
      const outcomes = await daemon.enqueue("q", commands);
      outcomes.forEach((outcome, i) => {
        made[i]!.id = outcome.id;
        byId.set(outcome.id, made[i]!);
      });
      tasks.push(...made);
    } else if (roll < 0.65) {
      const types = random() < 0.5 ? TYPES : [pick(TYPES)];
      const leased = await daemon.poll({ queue: "q", types, max: 1 + Math.floor(random() * 4), waitMs: 0, identity: "w" });
      if (leased.length > 0) dispatched(leased, types, step);
      else expect(tasks.some((t) => t.state === "pending" && types.includes(t.type)), where(step, "an empty poll with tasks pending")).toBe(false);
    } else if (roll < 0.85) {
      const running = tasks.filter((t) => t.state === "running");
      if (running.length === 0) continue;
      const task = pick(running);
      await daemon.complete(task.id, task.leaseToken!, undefined);
      task.state = "completed";
    } else if (roll < 0.97) {
      const pending = tasks.filter((t) => t.state === "pending");
      if (pending.length === 0) continue;
      const task = pick(pending);
      const { record } = await daemon.cancel(task.id);
      expect(record.state, where(step, `cancel of task ${task.n}`)).toBe("canceled");
      task.state = "canceled";
    } else {
      await daemon.stop();
      daemon = await start(dir.path, clock);
    }
    checkCounts(step);
  }

  // Drain: everything pending runs, once.
  for (let step = steps; ; step++) {
    const leased = await daemon.poll({ queue: "q", types: TYPES, max: 4, waitMs: 0, identity: "w" });
    if (leased.length === 0) break;
    dispatched(leased, TYPES, step);
    for (const l of leased) {
      await daemon.complete(l.id, l.lease!.token, undefined);
      byId.get(l.id)!.state = "completed";
    }
  }
  for (const task of tasks.filter((t) => t.state === "running")) {
    await daemon.complete(task.id, task.leaseToken!, undefined);
    task.state = "completed";
  }
  checkCounts(steps);
  expect(tasks.filter((t) => t.state === "completed").every((t) => t.runs === 1)).toBe(true);
  expect(tasks.filter((t) => t.state === "canceled").every((t) => t.runs === 0)).toBe(true);
  expect(daemon.metrics().tasksInStoreOnly).toBe(0);
  // The run did reach past the lines' memory.
  expect(mostInStore).toBeGreaterThan(5);
  await daemon.stop();
}

describe("deep backlogs against a model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`seed ${seed}: 400 random steps, then a drain`, async () => {
      await run(seed, 400);
    }, 60_000);
  }
});
