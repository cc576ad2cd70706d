/**
 * The dispatch engine: live tasks, per-queue ready lines, parked polls and lease deadlines.
 * Pure and synchronous: every operation takes `now` (epoch ms), nothing here reads a clock or
 * does I/O. The daemon calls it in the fixed order plan -> commit -> apply (see lib/daemon).
 *
 * Matching: a task that becomes ready goes straight to the oldest parked poll that handles its
 * type; polls are served first come, first served, which spreads tasks across workers.
 */
import { DeadlineHeap } from "./deadline-heap.ts";
import { ConflictError } from "./errors.ts";
import { QueueState, type ParkedPoller } from "./queue-state.ts";
import type { LiveTask, TaskRecord } from "./task-state.ts";

export interface DispatchCoreOptions {
  /** Returns an unguessable lease token; injected so the core stays free of runtime APIs. */
  newLeaseToken(): string;
}

export interface NewTask {
  id: string;
  queue: string;
  type: string;
  inputJson: string | undefined;
  startToCloseMs: number;
}

/** Tasks leased to a parked poll, which the daemon must now answer. */
export interface Assignment {
  pollerId: number;
  tasks: LiveTask[];
}

export interface PollRequestPlan {
  queue: string;
  types: readonly string[];
  max: number;
  identity: string;
}

export interface QueueCounts {
  name: string;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  pollersWaiting: number;
}

interface LeaseKey {
  task: LiveTask;
  token: string;
}

export class DispatchCore {
  private readonly tasks = new Map<string, LiveTask>();
  private readonly queues = new Map<string, QueueState>();
  private readonly leaseDeadlines = new DeadlineHeap<LeaseKey>();
  private readonly parkedQueueOf = new Map<number, QueueState>();
  private nextSeq = 1;
  private nextPollerId = 1;

  constructor(private readonly options: DispatchCoreOptions) {}

  /**
   * Rebuilds memory from the store at boot. A task whose lease is still running keeps it (its
   * worker may still finish); one whose deadline passed or is unknown is pending again at once.
   */
  restore(records: readonly TaskRecord[], finalCounts: readonly FinalCount[], maxSeq: number, now: number): void {
    this.nextSeq = Math.max(this.nextSeq, maxSeq + 1);
    for (const count of finalCounts) this.queueOf(count.queue)[count.state] += count.count;
    for (const record of records) {
      const task: LiveTask = {
        id: record.id,
        seq: record.seq,
        queue: record.queue,
        type: record.type,
        inputJson: record.inputJson,
        createdAt: record.createdAt,
        startToCloseMs: record.startToCloseMs,
        state: "pending",
        attempt: record.attempt,
        lease: undefined,
        heartbeatJson: record.heartbeatJson,
        settling: false,
      };
      this.tasks.set(task.id, task);
      const queue = this.queueOf(task.queue);
      const leaseLive = record.state === "running" && record.leaseToken !== undefined && (record.leaseDeadline ?? 0) > now;
      if (leaseLive) {
        task.state = "running";
        task.lease = { token: record.leaseToken!, deadline: record.leaseDeadline!, worker: record.worker ?? "", startedAt: record.startedAt ?? now };
        queue.running++;
        this.leaseDeadlines.push(task.lease.deadline, { task, token: task.lease.token });
      } else {
        queue.pending++;
        queue.pushReady(task);
      }
    }
  }

  /** A live task by id, or undefined when it is final or unknown. */
  getLive(id: string): LiveTask | undefined {
    return this.tasks.get(id);
  }

  /** Plans a new task: assigns its place in line. It is invisible until `addTasks`. */
  createTask(input: NewTask, now: number): LiveTask {
    return {
      ...input,
      seq: this.nextSeq++,
      createdAt: now,
      state: "pending",
      attempt: 0,
      lease: undefined,
      heartbeatJson: undefined,
      settling: false,
    };
  }

  /** Makes committed tasks dispatchable; returns the parked polls they went to. */
  addTasks(tasks: readonly LiveTask[], now: number): Assignment[] {
    const touched = new Set<QueueState>();
    for (const task of tasks) {
      const queue = this.queueOf(task.queue);
      this.tasks.set(task.id, task);
      queue.pending++;
      queue.pushReady(task);
      touched.add(queue);
    }
    return this.matchParked(touched, now);
  }

  /** Leases up to `max` ready tasks to a poll at once (no parking). */
  takeForPoll(plan: PollRequestPlan, now: number): LiveTask[] {
    const queue = this.queues.get(plan.queue);
    if (!queue || queue.pending === 0) return [];
    const tasks = queue.takeReady(plan.types, plan.max);
    for (const task of tasks) this.lease(queue, task, plan.identity, now);
    return tasks;
  }

  /** Parks a poll that found nothing; returns its id for `unpark`. */
  park(plan: PollRequestPlan, now: number): number {
    const id = this.nextPollerId++;
    const queue = this.queueOf(plan.queue);
    queue.parked.set(id, { id, queue: plan.queue, types: [...plan.types], max: plan.max, identity: plan.identity, parkedAt: now });
    this.parkedQueueOf.set(id, queue);
    return id;
  }

  /** Removes a parked poll (timed out or disconnected). False if it was already answered. */
  unpark(pollerId: number): boolean {
    const queue = this.parkedQueueOf.get(pollerId);
    if (!queue) return false;
    this.parkedQueueOf.delete(pollerId);
    queue.parked.delete(pollerId);
    this.dropIfIdle(queue);
    return true;
  }

  /** Removes every parked poll (shutdown); returns their ids. */
  unparkAll(): number[] {
    const ids = [...this.parkedQueueOf.keys()];
    for (const id of ids) this.unpark(id);
    return ids;
  }

  /**
   * Plans a completion or failure: checks the lease and freezes it so it cannot expire while
   * the outcome is being committed. Throws ConflictError for a stale token.
   */
  beginSettle(task: LiveTask, leaseToken: string): void {
    this.checkLease(task, leaseToken);
    if (task.settling) throw new ConflictError(`task ${task.id} is already being completed`);
    task.settling = true;
  }

  /** Undoes `beginSettle` after a failed commit; the lease may then expire as usual. */
  abortSettle(task: LiveTask): void {
    task.settling = false;
    if (task.lease) this.leaseDeadlines.push(task.lease.deadline, { task, token: task.lease.token });
  }

  /** Applies a committed completion or failure: the task leaves memory. */
  finishSettle(task: LiveTask, outcome: "completed" | "failed"): void {
    const queue = this.queueOf(task.queue);
    this.tasks.delete(task.id);
    queue.running--;
    queue[outcome]++;
    task.settling = false;
    // Drops the lease so its deadline entry, still in the heap, is recognised as stale.
    task.lease = undefined;
  }

  /** Checks a heartbeat and returns the lease deadline it will set. */
  planHeartbeat(task: LiveTask, leaseToken: string, now: number): number {
    this.checkLease(task, leaseToken);
    return Math.max(task.lease!.deadline, now + task.startToCloseMs);
  }

  /** Applies a committed heartbeat (if the lease is still the same one). */
  applyHeartbeat(task: LiveTask, leaseToken: string, deadline: number, detailsJson: string | undefined): void {
    if (task.lease?.token !== leaseToken) return;
    if (detailsJson !== undefined) task.heartbeatJson = detailsJson;
    if (deadline > task.lease.deadline) {
      task.lease.deadline = deadline;
      this.leaseDeadlines.push(deadline, { task, token: leaseToken });
    }
  }

  /**
   * Gives back tasks leased to a poll whose client went away before the answer reached it:
   * they return to the front of the line, and the attempt does not count.
   */
  release(tasks: readonly LiveTask[], now: number): Assignment[] {
    const touched = new Set<QueueState>();
    for (const task of [...tasks].reverse()) {
      if (task.state !== "running" || task.settling) continue;
      const queue = this.queueOf(task.queue);
      this.returnToReady(queue, task);
      task.attempt--;
      touched.add(queue);
    }
    return this.matchParked(touched, now);
  }

  /**
   * Applies every deadline due at `now`: expired leases put their task back (the next
   * dispatch is attempt + 1). Returns the expired tasks and the polls they went to.
   */
  tick(now: number): { expired: LiveTask[]; assignments: Assignment[] } {
    const expired: LiveTask[] = [];
    const touched = new Set<QueueState>();
    for (let entry = this.leaseDeadlines.popDue(now); entry; entry = this.leaseDeadlines.popDue(now)) {
      const { task, token } = entry.key;
      const lease = task.lease;
      if (!lease || lease.token !== token || lease.deadline > now || task.settling) continue;
      const queue = this.queueOf(task.queue);
      this.returnToReady(queue, task);
      expired.push(task);
      touched.add(queue);
    }
    return { expired, assignments: this.matchParked(touched, now) };
  }

  /** The earliest pending deadline (epoch ms), if any; the daemon sleeps until then. */
  nextDeadline(): number | undefined {
    return this.leaseDeadlines.peekAt();
  }

  /** Counts by state for every queue in memory, sorted by name. */
  queueCounts(): QueueCounts[] {
    return [...this.queues.values()]
      .map((q) => ({ name: q.name, pending: q.pending, running: q.running, completed: q.completed, failed: q.failed, pollersWaiting: q.parked.size }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private lease(queue: QueueState, task: LiveTask, worker: string, now: number): void {
    const token = this.options.newLeaseToken();
    task.state = "running";
    task.attempt++;
    task.lease = { token, deadline: now + task.startToCloseMs, worker, startedAt: now };
    queue.pending--;
    queue.running++;
    this.leaseDeadlines.push(task.lease.deadline, { task, token });
  }

  private returnToReady(queue: QueueState, task: LiveTask): void {
    task.state = "pending";
    task.lease = undefined;
    queue.running--;
    queue.pending++;
    queue.unshiftReady(task);
  }

  private matchParked(queues: Set<QueueState>, now: number): Assignment[] {
    const assignments: Assignment[] = [];
    for (const queue of queues) {
      for (const poller of queue.parked.values()) {
        if (queue.pending === 0) break;
        const tasks = queue.takeReady(poller.types, poller.max);
        if (tasks.length === 0) continue;
        for (const task of tasks) this.lease(queue, task, poller.identity, now);
        queue.parked.delete(poller.id);
        this.parkedQueueOf.delete(poller.id);
        assignments.push({ pollerId: poller.id, tasks });
      }
    }
    return assignments;
  }

  private checkLease(task: LiveTask, leaseToken: string): void {
    if (task.state !== "running" || task.lease?.token !== leaseToken) {
      throw new ConflictError(`lease token of task ${task.id} is stale: the lease expired or the task was redelivered`);
    }
  }

  private queueOf(name: string): QueueState {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new QueueState(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private dropIfIdle(queue: QueueState): void {
    if (queue.isIdle() && queue.completed === 0 && queue.failed === 0) this.queues.delete(queue.name);
  }
}

/** How many final tasks of a queue the store holds, for counts after a restart. */
export interface FinalCount {
  queue: string;
  state: "completed" | "failed";
  count: number;
}

export type { ParkedPoller };
