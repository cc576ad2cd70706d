/**
 * Dead letters and retention. Tasks that end `failed` or `timed_out` stay listed per queue
 * until requeued (fresh attempt budget and deadline, pending at once), purged, or removed by
 * retention. Retention deletes every final task older than the retention period, in small
 * batches through the group committer, so it never stalls dispatch.
 */
import type { Clock } from "../clock/clock.ts";
import { ConflictError, finalAttemptOf, NotFoundError, recordOfLiveTask, type Assignment, type DispatchCore, type FinalTaskState, type TaskRecord } from "../core/index.ts";
import type { Logger } from "../log/logger.ts";
import type { FinalTaskRef, StoreOp, TaskStore } from "../store/index.ts";
import type { AdminLock } from "./admin-lock.ts";

export interface RetentionSettings {
  /** Final tasks older than this (by finish time) are deleted. */
  retentionMs: number;
  /** Pause between sweeps that found less than a full batch. */
  sweepEveryMs: number;
  /** Rows deleted per commit. */
  batchSize: number;
}

export const DEFAULT_RETENTION: RetentionSettings = { retentionMs: 7 * 86_400_000, sweepEveryMs: 60_000, batchSize: 500 };
const DEAD_STATES: readonly string[] = ["failed", "timed_out"];
const MAX_REQUEUE = 10_000;

export interface DeadLetterDeps {
  core: DispatchCore;
  store: TaskStore;
  clock: Clock;
  log: Logger;
  lock: AdminLock;
  retention?: Partial<RetentionSettings> | undefined;
  isStopping(): boolean;
  /** Hands revived tasks that went straight to parked polls back to the daemon. */
  onRevived(assignments: Assignment[]): void;
  /** Deletes up to `limit` workflow executions closed before `before`; returns how many. */
  purgeClosedWorkflows(before: number, limit: number): Promise<number>;
}

export class DeadLetters {
  private readonly retention: RetentionSettings;
  private readonly stopSweeping = new AbortController();
  private sweeping: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DeadLetterDeps) {
    this.retention = { ...DEFAULT_RETENTION, ...deps.retention };
  }

  /** Failed and timed-out tasks of `queue`, oldest first. */
  list(queue: string, limit = 100): TaskRecord[] {
    return this.deps.store.listDead(queue, limit);
  }

  /** Requeues dead tasks (the given ids, or all of the queue's, up to 10,000 a call). */
  requeue(queue: string, target: { ids: readonly string[] } | { all: true }): Promise<string[]> {
    return this.deps.lock.run(async () => {
      const records = "ids" in target ? target.ids.map((id) => this.deadTask(queue, id)) : this.deps.store.listDead(queue, MAX_REQUEUE);
      if (records.length === 0) return [];
      const now = this.deps.clock.now();
      const tasks = records.map((record) => this.deps.core.reviveTask(record, now));
      const ops: StoreOp[] = [];
      records.forEach((record, i) => {
        // The attempt that ended the task lived on its row, which the revival resets: keep it.
        const last = finalAttemptOf(record, this.deps.store.readAttempts(record.id));
        if (last) ops.push({ op: "attempts.insert", attempt: last });
        ops.push({ op: "tasks.revive", task: recordOfLiveTask(tasks[i]!), fromSeq: record.seq, fromState: record.state as FinalTaskState });
      });
      await this.deps.store.commit(ops);
      // Plain ones may wait in the store, as a new enqueue's: a requeue of a queue's 10,000 dead
      // tasks, call after call, stays within the memory budget.
      this.deps.onRevived(this.deps.core.addTasks(tasks, this.deps.clock.now(), records.map((r) => r.state as FinalTaskState), true));
      return tasks.map((task) => task.id);
    });
  }

  /** Deletes the queue's dead tasks, or those that finished more than `olderThanMs` ago. */
  purge(queue: string, olderThanMs?: number): Promise<number> {
    return this.deps.lock.run(async () => {
      const before = olderThanMs === undefined ? Infinity : this.deps.clock.now() - olderThanMs;
      let purged = 0;
      for (;;) {
        const refs = this.deps.store.listFinishedBefore(before, 1_000, { deadOfQueue: queue });
        await this.deleteFinal(refs);
        purged += refs.length;
        if (refs.length < 1_000) return purged;
      }
    });
  }

  /** Starts the retention sweep loop. */
  startRetention(): void {
    this.sweeping = this.sweepLoop();
  }

  async stopRetention(): Promise<void> {
    this.stopSweeping.abort();
    await this.sweeping;
  }

  private async sweepLoop(): Promise<void> {
    const { clock, log } = this.deps;
    while (!this.stopSweeping.signal.aborted && !this.deps.isStopping()) {
      let deleted = 0;
      try {
        deleted = await this.deps.lock.run(async () => {
          const before = clock.now() - this.retention.retentionMs;
          const refs = this.deps.store.listFinishedBefore(before, this.retention.batchSize);
          await this.deleteFinal(refs);
          // Closed workflows (with their histories) follow the same retention as final tasks.
          const workflows = await this.deps.purgeClosedWorkflows(before, this.retention.batchSize);
          return Math.max(refs.length, workflows);
        });
        if (deleted > 0) log.debug("retention removed final tasks", { count: deleted });
      } catch (error) {
        log.warn("retention sweep failed; will try again", { error: String(error) });
      }
      // A full batch means more are due: go again at once (after yielding), else wait.
      await clock.sleep(deleted === this.retention.batchSize ? 0 : this.retention.sweepEveryMs, this.stopSweeping.signal);
    }
  }

  private async deleteFinal(refs: readonly FinalTaskRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.deps.store.commit(refs.map((ref) => ({ op: "tasks.delete", id: ref.id, seq: ref.seq }) as StoreOp));
  }

  private deadTask(queue: string, id: string): TaskRecord {
    const record = this.deps.store.readTask(id);
    if (!record || record.queue !== queue) throw new NotFoundError(`task ${id} not found on queue ${queue}`);
    if (!DEAD_STATES.includes(record.state)) throw new ConflictError(`task ${id} is ${record.state}, not failed or timed_out`);
    return record;
  }
}
