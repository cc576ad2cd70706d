/**
 * The worker's client when it uses the worker stream (`tqd work --transport stream`, the
 * default): polls and batched settles go over the stream, every other call over HTTP. Where the
 * server does not offer the stream (it answered the upgrade with an HTTP status: an older
 * server, a proxy without WebSockets), the calls go over HTTP and the stream is tried again
 * after STREAM_RETRY_MS; a batch of outcomes too large for a frame goes over HTTP (see
 * client/stream-or-http.ts). Tasks of a poll answered after the worker withdrew it are given back
 * over HTTP (`POST /v1/tasks/release`) instead of staying leased until their lease expires.
 */
import { STREAM_RETRY_MS, StreamOrHttp, WorkerStream, type TqdClient } from "../client/index.ts";
import type { Logger } from "../log/logger.ts";
import type { LeasedTask, PollRequest, SettleItem, SettleItemResult } from "../protocol/index.ts";
import { describeError } from "./task-outcome.ts";
import type { WorkerClient } from "./worker-client.ts";

export class StreamingWorkerClient implements WorkerClient {
  private readonly stream: WorkerStream;
  private readonly transport: StreamOrHttp;

  constructor(
    private readonly http: TqdClient,
    private readonly log: Logger,
    now: () => number = Date.now,
  ) {
    this.transport = new StreamOrHttp(
      (error) => this.log.info("the server refused the worker stream (an older server, a proxy, or a bad token); using HTTP", { error: error.message, retryInMs: STREAM_RETRY_MS }),
      now,
    );
    this.stream = new WorkerStream({
      baseUrl: http.baseUrl,
      token: http.token,
      onOrphanedTasks: (tasks) => this.giveBack(tasks),
    });
  }

  poll(queue: string, request: PollRequest, signal?: AbortSignal): Promise<LeasedTask[]> {
    return this.transport.call(
      () => this.stream.poll(queue, request, signal),
      () => this.http.poll(queue, request, signal),
    );
  }

  settleBatch(completions: SettleItem[], signal?: AbortSignal, onOrdered?: () => void): Promise<SettleItemResult[]> {
    return this.transport.call(
      () => this.stream.settleBatch(completions, onOrdered),
      () => this.http.settleBatch(completions, signal),
    );
  }

  /** Outcomes go over the stream unless the server refused it lately. */
  ordersOutcomes(): boolean {
    return this.transport.streamOn;
  }

  complete: TqdClient["complete"] = (...args) => this.http.complete(...args);
  fail: TqdClient["fail"] = (...args) => this.http.fail(...args);
  heartbeat: TqdClient["heartbeat"] = (...args) => this.http.heartbeat(...args);
  leave: TqdClient["leave"] = (...args) => this.http.leave(...args);
  release: TqdClient["release"] = (...args) => this.http.release(...args);
  workflowHistory: TqdClient["workflowHistory"] = (...args) => this.http.workflowHistory(...args);
  completeWorkflowTask: TqdClient["completeWorkflowTask"] = (...args) => this.http.completeWorkflowTask(...args);

  /** Closes the stream (at the end of `tqd work`). */
  close(): void {
    this.stream.close();
  }

  private giveBack(tasks: LeasedTask[]): void {
    this.http.release(tasks.map((task) => ({ id: task.id, leaseToken: task.leaseToken }))).then(
      () => this.log.debug("gave back the tasks of a withdrawn poll", { tasks: tasks.length }),
      (error: unknown) => this.log.info("could not give back the tasks of a withdrawn poll; they return when their leases expire", { tasks: tasks.length, error: describeError(error) }),
    );
  }
}
