/**
 * The client side of the stream (see protocol/worker-stream.ts): poll, batched settle, enqueue
 * and task reads over one WebSocket, several calls in flight at once, each matched to its
 * answer by `ref`. The socket opens on the first call and again on the first call after it
 * closed; calls in flight when it closes fail with TqdUnreachableError, as an HTTP call does
 * when its connection drops.
 *
 * A server that answers the upgrade with anything but 101 (an older server without the stream,
 * a proxy that does not pass WebSockets, a bad token) fails the call with
 * StreamUnavailableError, so the caller can use HTTP instead (see worker/streaming-client.ts).
 *
 * Aborting a poll sends `cancel` and fails the call at once, as an aborted fetch does. The
 * server then answers the poll anyway, empty if it could take its tasks back; tasks that were
 * already on the way are handed to `onOrphanedTasks`, so the caller can give them back instead
 * of leaving them leased until their lease expires.
 */
import {
  enqueueBatchResponseSchema,
  enqueueResponseSchema,
  errorBodySchema,
  plainEnqueueBatchResponseOf,
  plainEnqueueResponseOf,
  pollResponseSchema,
  settleBatchResponseSchema,
  taskViewSchema,
  WORKER_STREAM_PATH,
  type EnqueueBatchResponse,
  type EnqueueRequest,
  type EnqueueResponse,
  type LeasedTask,
  type PollRequest,
  type Schema,
  type SchemaOutput,
  type SettleItem,
  type SettleItemResult,
  type StreamRequest,
  type TaskView,
} from "../protocol/index.ts";
import { TqdApiError, TqdProtocolError, TqdUnreachableError } from "./errors.ts";

/** How long a client uses HTTP after the server refused the stream, in ms. */
export const STREAM_RETRY_MS = 60_000;

/**
 * A frame longer than this (UTF-16 units) is not sent on the stream: the caller sends the call
 * over HTTP (see stream-or-http.ts). At most
 * 768 KiB of UTF-8, under the server's default --max-body (1 MiB), so a frame the server would
 * refuse cannot close the socket under the other calls in flight, and a batch that large gains
 * nothing from the stream (its cost is its rows, not its request).
 */
export const STREAM_FRAME_MAX_CHARS = 256 * 1024;

/** The call's frame is over STREAM_FRAME_MAX_CHARS: send it over HTTP instead. */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
}

/** The server answered the upgrade with a status other than 101: the stream is not offered there. */
export class StreamUnavailableError extends Error {
  override readonly name = "StreamUnavailableError";
}

export interface WorkerStreamOptions {
  /** Base URL such as `http://127.0.0.1:7070`. */
  baseUrl: string;
  token?: string | undefined;
  /** Tasks of a poll answered after the caller aborted it: leased to this worker, to be given back. */
  onOrphanedTasks?: (tasks: LeasedTask[]) => void;
  /**
   * Closes the socket once no call has been in flight for this long (the next call opens it
   * again). A producer sets it: an open WebSocket keeps a Bun process alive, so a script that
   * never calls close() still exits this long after its last call. Unset: open until close().
   */
  idleCloseMs?: number;
}

interface Pending {
  schema: Schema;
  /** A hand check of the answer's usual shape (see plainEnqueueResponseOf); the schema reads the rest. */
  plain?: ((body: unknown) => unknown) | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Refs of aborted polls whose answers are still due: their tasks are orphans. */
type Withdrawn = Set<number>;

export class WorkerStream {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly withdrawn: Withdrawn = new Set();
  private closedByUs = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private lastAnswerMs = 0;

  constructor(private readonly options: WorkerStreamOptions) {}

  /** `POST /v1/queues/{queue}/tasks` over the stream. */
  enqueue(queue: string, request: EnqueueRequest): Promise<EnqueueResponse> {
    return this.call((ref) => ({ op: "enqueue", ref, queue, body: request }), enqueueResponseSchema, plainEnqueueResponseOf);
  }

  /**
   * `GET /v1/tasks/{id}?waitMs=` over the stream. Aborting fails the call at once; the server's
   * answer, when it comes at the end of its wait, is dropped.
   */
  async getTask(id: string, waitMs?: number, signal?: AbortSignal): Promise<TaskView> {
    signal?.throwIfAborted();
    const socket = await this.open();
    signal?.throwIfAborted();
    const ref = this.nextRef++;
    const answered = this.expect(ref, taskViewSchema);
    const frame: StreamRequest = waitMs === undefined ? { op: "get", ref, id } : { op: "get", ref, id, waitMs };
    socket.send(JSON.stringify(frame));
    if (!signal) return answered;
    const onAbort = () => {
      const call = this.pending.get(ref);
      if (!call) return;
      this.pending.delete(ref);
      this.closeWhenIdle();
      call.reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await answered;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** `POST /v1/queues/{queue}/tasks/batch` over the stream. */
  enqueueBatch(queue: string, tasks: EnqueueRequest[]): Promise<EnqueueBatchResponse> {
    return this.call((ref) => ({ op: "enqueueBatch", ref, queue, body: { tasks } }), enqueueBatchResponseSchema, plainEnqueueBatchResponseOf);
  }

  /** `POST /v1/queues/{queue}/poll` over the stream. */
  async poll(queue: string, request: PollRequest, signal?: AbortSignal): Promise<LeasedTask[]> {
    signal?.throwIfAborted();
    const socket = await this.open();
    signal?.throwIfAborted();
    const ref = this.nextRef++;
    const answered = this.expect(ref, pollResponseSchema);
    const frame: StreamRequest = { op: "poll", ref, queue, body: request };
    socket.send(JSON.stringify(frame));
    if (!signal) return (await answered).tasks;
    return new Promise<LeasedTask[]>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(ref)) return;
        this.pending.delete(ref);
        this.withdrawn.add(ref);
        const cancel: StreamRequest = { op: "cancel", ref };
        if (this.socket === socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(cancel));
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      answered.then(
        (response) => {
          signal.removeEventListener("abort", onAbort);
          resolve(response.tasks);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  /**
   * `POST /v1/tasks/complete` over the stream. `onSent` runs once the frame is on the socket:
   * the server reads a socket's frames in order, so it reads these outcomes before any call
   * sent after them on this socket.
   */
  async settleBatch(completions: SettleItem[], onSent?: () => void): Promise<SettleItemResult[]> {
    const socket = await this.open();
    const ref = this.nextRef++;
    const frame = boundedFrame({ op: "complete", ref, body: { completions } });
    const answered = this.expect(ref, settleBatchResponseSchema);
    const open = socket.readyState === WebSocket.OPEN;
    socket.send(frame);
    if (open) onSent?.();
    return (await answered).results;
  }

  /** Closes the socket; calls in flight fail as unreachable. */
  close(): void {
    this.closedByUs = true;
    clearTimeout(this.idleTimer);
    this.socket?.close(1000, "client closing");
  }

  /** A call without abort or ordering hooks: its frame (FrameTooLargeError if too large), then its answer. */
  private async call<S extends Schema>(frameOf: (ref: number) => StreamRequest, schema: S, plain?: (body: unknown) => SchemaOutput<S> | undefined): Promise<SchemaOutput<S>> {
    const socket = await this.open();
    const ref = this.nextRef++;
    const frame = boundedFrame(frameOf(ref));
    const answered = this.expect(ref, schema, plain);
    socket.send(frame);
    return answered;
  }

  private expect<S extends Schema>(ref: number, schema: S, plain?: (body: unknown) => SchemaOutput<S> | undefined): Promise<SchemaOutput<S>> {
    return new Promise((resolve, reject) => this.pending.set(ref, { schema, plain, resolve: resolve as (value: unknown) => void, reject }));
  }

  private open(): Promise<WebSocket> {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    if (this.closedByUs) return Promise.reject(new TqdUnreachableError(this.options.baseUrl, new Error("the worker stream was closed")));
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private connect(): Promise<WebSocket> {
    const url = this.options.baseUrl.replace(/^http/, "ws") + WORKER_STREAM_PATH;
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    return new Promise((resolve, reject) => {
      // Bun's WebSocket takes headers, which the upgrade needs for the bearer token.
      const socket = new WebSocket(url, { headers } as unknown as string[]);
      let opened = false;
      let failure: string | undefined;
      socket.onopen = () => {
        opened = true;
        this.socket = socket;
        resolve(socket);
      };
      socket.onerror = (event) => {
        failure = (event as ErrorEvent).message ?? "connection failed";
      };
      socket.onmessage = (event) => this.receive(typeof event.data === "string" ? event.data : String(event.data));
      socket.onclose = (event) => {
        if (this.socket === socket) this.socket = undefined;
        const cause = new Error(failure ?? `the worker stream closed (${event.code}${event.reason ? `: ${event.reason}` : ""})`);
        if (!opened) {
          reject(failure !== undefined && /Expected 101 status code/.test(failure) ? new StreamUnavailableError(failure) : new TqdUnreachableError(this.options.baseUrl, cause));
          return;
        }
        const lost = [...this.pending.values()];
        this.pending.clear();
        this.withdrawn.clear();
        for (const call of lost) call.reject(new TqdUnreachableError(this.options.baseUrl, cause));
      };
    });
  }

  private receive(frame: string): void {
    let answer: { ref?: unknown; status?: unknown; body?: unknown };
    try {
      answer = JSON.parse(frame) as typeof answer;
    } catch {
      return;
    }
    if (typeof answer.ref !== "number" || typeof answer.status !== "number") return;
    const call = this.pending.get(answer.ref);
    this.pending.delete(answer.ref);
    this.closeWhenIdle();
    if (!call) {
      if (this.withdrawn.delete(answer.ref)) this.orphaned(answer.body);
      return;
    }
    if (answer.status >= 200 && answer.status < 300) {
      const plain = call.plain?.(answer.body);
      if (plain !== undefined) {
        call.resolve(plain);
        return;
      }
      const parsed = call.schema.safeParse(answer.body);
      if (parsed.success) call.resolve(parsed.data);
      else call.reject(new TqdProtocolError("unexpected answer on the worker stream"));
      return;
    }
    const error = errorBodySchema.safeParse(answer.body);
    call.reject(error.success ? new TqdApiError(answer.status, error.data.error.code, error.data.error.message) : new TqdApiError(answer.status, "internal", `status ${answer.status} on the worker stream`));
  }

  /**
   * Arms the idle close (see `idleCloseMs`) when the last call in flight got its answer. One
   * timer checks and re-arms itself instead of a new timer per answer: a producer on the
   * stream gets thousands of answers a second.
   */
  private closeWhenIdle(): void {
    const idleCloseMs = this.options.idleCloseMs;
    if (idleCloseMs === undefined || this.pending.size > 0) return;
    this.lastAnswerMs = performance.now();
    if (this.idleTimer === undefined) this.armIdleClose(idleCloseMs);
  }

  private armIdleClose(afterMs: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const idleCloseMs = this.options.idleCloseMs!;
      // Busy again: the answer that ends the next quiet spell arms the timer anew.
      if (this.pending.size > 0 || this.withdrawn.size > 0 || this.opening !== undefined) return;
      const quietMs = performance.now() - this.lastAnswerMs;
      if (quietMs >= idleCloseMs) this.socket?.close(1000, "idle");
      else this.armIdleClose(idleCloseMs - quietMs);
    }, afterMs);
    // The socket, not this timer, is what may keep the process alive until it fires.
    this.idleTimer.unref();
  }

  /** The answer of a withdrawn poll: any tasks in it go to `onOrphanedTasks`. */
  private orphaned(body: unknown): void {
    const parsed = pollResponseSchema.safeParse(body);
    if (parsed.success && parsed.data.tasks.length > 0) this.options.onOrphanedTasks?.(parsed.data.tasks);
  }
}

/** The frame's text; FrameTooLargeError over STREAM_FRAME_MAX_CHARS. */
function boundedFrame(frame: StreamRequest): string {
  const text = JSON.stringify(frame);
  if (text.length > STREAM_FRAME_MAX_CHARS) throw new FrameTooLargeError(`a ${text.length}-character frame goes over HTTP`);
  return text;
}
