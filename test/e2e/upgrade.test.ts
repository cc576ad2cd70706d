/**
 * A data directory from before minted ids carried their seq (schema migration 0008) upgrades
 * in place through the compiled binary: the old ids are found, run, waited on and reused as
 * idempotency keys, and the ids the server mints from then on carry their seq.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { seqInTaskId } from "../../lib/core/index.ts";
import { tasksTableBefore0008 } from "../support/old-schemas.ts";
import { tempDir } from "../support/temp-dir.ts";
import { runTqd, startDaemon, startTqd } from "../support/tqd-process.ts";

/** Ids as the daemon minted them before 0008: the time, then 16 random digits. */
const OLD_IDS = ["01KAYZ3Q0S7D2M9XQ4H8B6WCNE", "01KAYZ3Q0SVJ5T1R0K3GZP8YAF"];

describe("upgrading a data directory (binary)", () => {
  test("tasks with ids of the old form are found, run and reused after the upgrade; ids the server mints carry their seq", async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    {
      await using daemon = await startDaemon(data);
      for (const n of [0, 1]) expect((await runTqd(["enqueue", "q", "t", JSON.stringify({ n }), "--server", daemon.url])).code).toBe(0);
      daemon.kill("SIGTERM");
      await daemon.exited;
    }
    // The database as the previous version left it: every id unique-indexed, ids of the old form.
    const raw = new Database(join(data, "tqd.db"));
    raw.exec("PRAGMA journal_mode = WAL");
    const seqs = (raw.query("SELECT seq FROM tasks ORDER BY seq").all() as { seq: number }[]).map((row) => row.seq);
    seqs.forEach((seq, i) => raw.query("UPDATE tasks SET id = $id WHERE seq = $seq").run({ $id: OLD_IDS[i]!, $seq: seq }));
    tasksTableBefore0008(raw);
    raw.close();

    await using daemon = await startDaemon(data);
    const server = ["--server", daemon.url];
    const first = await fetch(`${daemon.url}/v1/tasks/${OLD_IDS[0]}`);
    expect([first.status, ((await first.json()) as { input: unknown }).input]).toEqual([200, { n: 0 }]);
    const again = await runTqd(["enqueue", "q", "t", "{}", "--id", OLD_IDS[1]!, "--json", ...server]);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: OLD_IDS[1], created: false, state: "pending" });
    // An id the server mints carries the seq (the CLI mints its own: a producer id, indexed).
    const created = await fetch(`${daemon.url}/v1/queues/q/tasks`, { method: "POST", body: JSON.stringify({ type: "t", input: { n: 2 } }) });
    const fresh = ((await created.json()) as { id: string }).id;
    expect(seqInTaskId(fresh)).toBe(seqs[seqs.length - 1]! + 1);

    await using worker = startTqd(["work", "--exec", "cat", "--queue", "q", "--type", "t", ...server]);
    for (const [id, n] of [[OLD_IDS[0]!, 0], [OLD_IDS[1]!, 1], [fresh, 2]] as const) {
      const waited = await runTqd(["wait", id, "--timeout", "30s", ...server]);
      expect([waited.code, JSON.parse(waited.stdout)]).toEqual([0, { n }]);
    }
    const reused = await runTqd(["enqueue", "q", "t", "{}", "--id", OLD_IDS[0]!, ...server]);
    expect([reused.code, reused.stderr]).toEqual([1, expect.stringContaining("already ended completed")]);
    worker.kill("SIGTERM");
    await worker.exited;
  }, 60_000);
});
