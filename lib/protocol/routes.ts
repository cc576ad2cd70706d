/**
 * URL paths of the HTTP API, built in one place so the server's route table and every client
 * agree. Queue names are percent-encoded because they may contain `/`.
 */
export const PROTOCOL_VERSION = 1;

const q = (queue: string) => encodeURIComponent(queue);
const t = (id: string) => encodeURIComponent(id);

export const paths = {
  enqueue: (queue: string) => `/v1/queues/${q(queue)}/tasks`,
  enqueueBatch: (queue: string) => `/v1/queues/${q(queue)}/tasks/batch`,
  poll: (queue: string) => `/v1/queues/${q(queue)}/poll`,
  queues: (prefix?: string) => (prefix === undefined ? `/v1/queues` : `/v1/queues?prefix=${encodeURIComponent(prefix)}`),
  describe: (queue: string) => `/v1/queues/${q(queue)}`,
  limit: (queue: string) => `/v1/queues/${q(queue)}/limit`,
  pause: (queue: string) => `/v1/queues/${q(queue)}/pause`,
  resume: (queue: string) => `/v1/queues/${q(queue)}/resume`,
  fairness: (queue: string) => `/v1/queues/${q(queue)}/fairness`,
  leave: (queue: string) => `/v1/queues/${q(queue)}/pollers/leave`,
  explain: (id: string) => `/v1/tasks/${t(id)}/explain`,
  metrics: () => `/metrics`,
  routes: (queue: string) => `/v1/queues/${q(queue)}/routes`,
  routeRemove: (queue: string, ruleId: string) => `/v1/queues/${q(queue)}/routes/${encodeURIComponent(ruleId)}/delete`,
  routeTest: (queue: string) => `/v1/queues/${q(queue)}/routes/test`,
  routeHistory: (queue: string) => `/v1/queues/${q(queue)}/routes/history`,
  routeRollback: (queue: string) => `/v1/queues/${q(queue)}/routes/rollback`,
  task: (id: string) => `/v1/tasks/${t(id)}`,
  complete: (id: string) => `/v1/tasks/${t(id)}/complete`,
  fail: (id: string) => `/v1/tasks/${t(id)}/fail`,
  /** Several completions and failures in one request. */
  settleBatch: () => `/v1/tasks/complete`,
  /** Gives back leased tasks the worker will not run. */
  release: () => `/v1/tasks/release`,
  heartbeat: (id: string) => `/v1/tasks/${t(id)}/heartbeat`,
  cancel: (id: string) => `/v1/tasks/${t(id)}/cancel`,
  deadList: (queue: string) => `/v1/queues/${q(queue)}/dead`,
  deadRequeue: (queue: string) => `/v1/queues/${q(queue)}/dead/requeue`,
  deadPurge: (queue: string) => `/v1/queues/${q(queue)}/dead/purge`,
  livez: () => `/livez`,
  readyz: () => `/readyz`,
} as const;
