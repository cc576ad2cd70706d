/**
 * A fresh worker, fake client, fake clock and captured log per test, plus small builders:
 * `setup()` in each test, `bundle.stop()` at its end.
 */
import { createLogger } from "../../../lib/log/logger.ts";
import type { LeasedTask } from "../../../lib/protocol/index.ts";
import { createWorker, type HandlerMap, type Worker, type WorkerOptions } from "../../../lib/worker/index.ts";
import { FakeClock } from "../../support/fake-clock.ts";
import { FakeWorkerClient } from "./fake-worker-client.ts";

export interface LogRecord {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface WorkerTestBundle {
  client: FakeWorkerClient;
  clock: FakeClock;
  worker: Worker;
  logs: LogRecord[];
  /** Records at `level` whose message contains `text`. */
  logged(level: string, text: string): LogRecord[];
  /** A task as the server would lease it now, with a 60 s lease. */
  aLeasedTask(fields?: Partial<LeasedTask>): LeasedTask;
}

let taskCounter = 0;

export function setup(handlers: HandlerMap, options: Partial<WorkerOptions> = {}): WorkerTestBundle {
  const client = new FakeWorkerClient();
  const clock = new FakeClock();
  const logs: LogRecord[] = [];
  const log = createLogger({ write: (line) => logs.push(JSON.parse(line) as LogRecord), format: "json", level: "debug", now: () => clock.now() });
  const worker = createWorker({
    client,
    clock,
    log,
    handlers,
    queues: ["q"],
    concurrency: 10,
    identity: "test-worker",
    host: "test-host",
    graceMs: 30_000,
    random: () => 0.5,
    ...options,
  });
  return {
    client,
    clock,
    worker,
    logs,
    logged: (level, text) => logs.filter((record) => record.level === level && record.msg.includes(text)),
    aLeasedTask(fields = {}) {
      taskCounter += 1;
      return {
        id: `task-${taskCounter}`,
        queue: "q",
        type: Object.keys(handlers)[0] ?? "t",
        input: null,
        attempt: 1,
        leaseToken: `token-${taskCounter}`,
        leaseDeadline: new Date(clock.now() + 60_000).toISOString(),
        ...fields,
      };
    },
  };
}

/** A promise with its resolve and reject exposed, for handlers the test finishes by hand. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
