/**
 * A TaskStore decorator that makes chosen awaited commits fail, as a full disk or an I/O error
 * would: the wrapped store writes nothing for them. Everything else passes through.
 */
import type { StoreOp, TaskStore } from "../../lib/store/index.ts";

export interface FailingStore extends TaskStore {
  /** Makes the next `count` awaited commits whose ops match `filter` fail. */
  failNext(count: number, filter?: (ops: StoreOp[]) => boolean): void;
}

export function failingStore(inner: TaskStore): FailingStore {
  let remaining = 0;
  let matches: (ops: StoreOp[]) => boolean = () => true;
  return {
    failNext(count, filter = () => true) {
      remaining = count;
      matches = filter;
    },
    commit(ops, options) {
      if (remaining > 0 && matches(ops)) {
        remaining--;
        return Promise.reject(new Error("SQLITE_FULL: database or disk is full (injected)"));
      }
      return inner.commit(ops, options);
    },
    stage: (ops, options) => inner.stage(ops, options),
    readTask: (id) => inner.readTask(id),
    readTasks: (ids) => inner.readTasks(ids),
    readInput: (id, seq) => inner.readInput(id, seq),
    loadCold: (line, seqs) => inner.loadCold(line, seqs),
    readAttempts: (id) => inner.readAttempts(id),
    listDead: (queue, limit) => inner.listDead(queue, limit),
    listFinishedBefore: (before, limit, scope) => inner.listFinishedBefore(before, limit, scope),
    loadLive: () => inner.loadLive(),
    finalCounts: (prefix) => inner.finalCounts(prefix),
    finalCountsOf: (queue) => inner.finalCountsOf(queue),
    routeHistory: (queue) => inner.routeHistory(queue),
    readWorkflow: (id) => inner.readWorkflow(id),
    readWorkflowEvents: (id, after, limit) => inner.readWorkflowEvents(id, after, limit),
    readWorkflowSessions: (id) => inner.readWorkflowSessions(id),
    listWorkflows: (filter) => inner.listWorkflows(filter),
    loadRunningWorkflows: () => inner.loadRunningWorkflows(),
    listWorkflowsClosedBefore: (before, limit) => inner.listWorkflowsClosedBefore(before, limit),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}
