/**
 * One stream's session, a worker's or a producer's (see protocol/worker-stream.ts): reads its
 * frames, runs each call on the daemon as the HTTP route would, and answers with the route's
 * status and body. Runtime-neutral: serve.ts feeds it frames and gives it the socket's `send`
 * and `close`.
 *
 * What a poll answer must never do is lose its tasks: they are leased from the moment the
 * daemon hands them over. So a poll withdrawn (`cancel`) or cut off (the socket closed) before
 * its answer gives its tasks back like an aborted HTTP poll, and an answer the socket refuses
 * (closed meanwhile) releases its tasks at once instead of leaving them to their lease expiry.
 */
import type { Daemon, PollCommand } from "../daemon/index.ts";
import type { Logger } from "../log/logger.ts";
import { parseStreamRequest, type ErrorCode, type StreamRequestParsed } from "../protocol/index.ts";
import { hasValidToken } from "./auth.ts";
import { batchAnswerOf, batchStatusOf, enqueueAnswerOf, enqueueCommandOf } from "./enqueue-command.ts";
import { errorResponse, invalidRequest, knownError, statusOf } from "./errors.ts";
import { queueNameOf, taskIdOf } from "./path-params.ts";
import type { HttpSettings } from "./route-context.ts";
import { renderLeasedTasks, renderTaskView } from "./render-task.ts";
import { settleItems } from "./settle-batch-route.ts";

/** The socket, as the session needs it. */
export interface StreamSocket {
  /** Sends one text frame; false when the socket can no longer take it (closed). */
  send(text: string): boolean;
  /** Closes with a WebSocket status code (1007 bad payload, 1008 policy) and a reason. */
  close(code: number, reason: string): void;
}

/** WebSocket close codes the session uses: a frame it cannot read, a ref used twice, a frame too large and without a ref. */
export const CLOSE_BAD_FRAME = 1007;
export const CLOSE_PROTOCOL_BROKEN = 1008;
export const CLOSE_TOO_LARGE = 1009;

export class WorkerStreamSession {
  /** Polls in flight by ref: aborting one withdraws it. */
  private readonly polls = new Map<number, AbortController>();
  /** Aborted when the socket closes: ends the waits of `get` calls. */
  private readonly gone = new AbortController();
  private closed = false;

  constructor(
    private readonly socket: StreamSocket,
    private readonly daemon: Daemon,
    private readonly log: Logger,
    /** A request body's bound (--max-body): a frame's body is held to it. */
    private readonly maxBodyBytes: number,
    /** Called once when the socket closes. */
    private readonly onClosed: () => void = () => undefined,
  ) {}

  /** Handles one frame; answers are sent when ready, so calls overlap. */
  receive(frame: string): void {
    let value: unknown;
    try {
      value = JSON.parse(frame);
    } catch {
      // Without a ref there is nobody to answer: the frame breaks the protocol.
      this.socket.close(CLOSE_BAD_FRAME, "frame is not valid JSON");
      return;
    }
    if (this.isTooLarge(frame, value)) {
      const ref = refOf(value);
      const message = `request body is larger than the limit of ${this.maxBodyBytes} bytes (see --max-body)`;
      if (ref !== undefined) this.answerError(ref, { code: "payload_too_large", message });
      else this.socket.close(CLOSE_TOO_LARGE, message);
      return;
    }
    const parsed = parseStreamRequest(value);
    if (!parsed.success) {
      const ref = refOf(value);
      if (ref === undefined) {
        this.socket.close(CLOSE_BAD_FRAME, "frame has no valid ref");
        return;
      }
      const error = invalidRequest(parsed.error);
      this.answerError(ref, { code: error.code, message: error.message });
      return;
    }
    void this.run(parsed.data);
  }

  /**
   * The frame's body (as compact JSON, in UTF-8 bytes) is over --max-body, as a request body
   * over it is refused on HTTP. Measured only when the frame itself could be over it (a UTF-16
   * unit is at most 3 bytes), so the usual frame costs one comparison.
   */
  private isTooLarge(frame: string, value: unknown): boolean {
    const limit = this.maxBodyBytes;
    if (frame.length * 3 <= limit || Buffer.byteLength(frame, "utf8") <= limit) return false;
    const body = (value as { body?: unknown } | null)?.body;
    return body === undefined || Buffer.byteLength(JSON.stringify(body), "utf8") > limit;
  }

  /** The socket closed: withdraws every poll still parked (their tasks go back). */
  closedByPeer(): void {
    if (this.closed) return;
    this.onClosed();
    this.closed = true;
    this.gone.abort();
    for (const poll of this.polls.values()) poll.abort();
    this.polls.clear();
  }

  private async run(parsed: StreamRequestParsed): Promise<void> {
    try {
      if (parsed.op === "cancel") {
        this.polls.get(parsed.ref)?.abort();
      } else if (parsed.op === "poll") {
        await this.poll(parsed.ref, parsed.queue, parsed.body);
      } else if (parsed.op === "get") {
        const details = await this.daemon.getTask(taskIdOf(parsed.id), parsed.waitMs ?? 0, this.gone.signal);
        this.answer(parsed.ref, 200, renderTaskView(details));
      } else if (parsed.op === "enqueue") {
        const queue = queueNameOf(parsed.queue);
        const [outcome] = await this.daemon.enqueue(queue, [enqueueCommandOf(parsed.body, queue)]);
        this.answer(parsed.ref, outcome!.created ? 201 : 200, JSON.stringify(enqueueAnswerOf(outcome!, this.daemon.typoWarning(queue))));
      } else if (parsed.op === "enqueueBatch") {
        const queue = queueNameOf(parsed.queue);
        const outcomes = await this.daemon.enqueue(queue, parsed.body.tasks.map((task) => enqueueCommandOf(task, queue)));
        this.answer(parsed.ref, batchStatusOf(outcomes), JSON.stringify(batchAnswerOf(outcomes, this.daemon.typoWarning(queue))));
      } else {
        // Patient: the worker freed these slots when it sent the frame (see worker/task-runner.ts).
        const results = await settleItems(this.daemon, parsed.body, true);
        this.answer(parsed.ref, 200, JSON.stringify({ results }));
      }
    } catch (error) {
      const known = knownError(error);
      if (!known) this.log.error("worker stream call failed", { op: parsed.op, error: String(error) });
      this.answerError(parsed.ref, known ?? { code: "internal", message: "internal error; see the server log" });
    }
  }

  private async poll(ref: number, queue: string, body: Omit<PollCommand, "queue">): Promise<void> {
    const name = queueNameOf(queue);
    if (this.polls.has(ref)) {
      // An answer would be taken for the other poll's: the caller lost track of its calls.
      this.socket.close(CLOSE_PROTOCOL_BROKEN, `ref ${ref} is already in use by a poll in flight`);
      return;
    }
    const withdraw = new AbortController();
    if (this.closed) withdraw.abort();
    this.polls.set(ref, withdraw);
    try {
      const tasks = await this.daemon.poll({ ...body, queue: name }, withdraw.signal);
      if (!this.answer(ref, 200, renderLeasedTasks(tasks)) && tasks.length > 0) {
        // Refused by a daemon shutting down (or a failed write): they come back at lease expiry.
        this.daemon
          .release(tasks.map((task) => ({ id: task.id, leaseToken: task.lease!.token })))
          .catch((error) => this.log.warn("could not give back the tasks of a poll answer the socket refused", { tasks: tasks.length, error: String(error) }));
      }
    } finally {
      this.polls.delete(ref);
    }
  }

  /** Answers with an error body and its code's HTTP status. */
  private answerError(ref: number, error: { code: ErrorCode; message: string }): void {
    this.answer(ref, statusOf(error.code), JSON.stringify({ error }));
  }

  /** Sends `{"ref","status","body"}` with `body` already JSON text; false if the socket refused it. */
  private answer(ref: number, status: number, bodyJson: string): boolean {
    if (this.closed) return false;
    return this.socket.send(`{"ref":${ref},"status":${status},"body":${bodyJson}}`);
  }
}

/** The frame's `ref` when it is a valid one, so the call can be answered; undefined otherwise. */
function refOf(value: unknown): number | undefined {
  const ref = (value as { ref?: unknown } | null)?.ref;
  return typeof ref === "number" && Number.isSafeInteger(ref) && ref >= 0 ? ref : undefined;
}

/** What serve.ts needs to offer the stream: the upgrade check and a session per socket. */
export interface WorkerStreamEndpoint {
  /** An error answer when `request` may not open a stream (bad token); undefined to upgrade. */
  refuse(request: Request): Response | undefined;
  open(socket: StreamSocket): WorkerStreamSession;
}

/** The endpoint; also sets `settings.workerStreams`, so /metrics reports the streams open. */
export function createWorkerStreamEndpoint(daemon: Daemon, settings: HttpSettings, log: Logger): WorkerStreamEndpoint {
  let open = 0;
  settings.workerStreams = () => open;
  return {
    refuse: (request) =>
      settings.token !== undefined && !hasValidToken(request, settings.token)
        ? errorResponse("unauthorized", "missing or invalid bearer token", { "www-authenticate": "Bearer" })
        : undefined,
    open: (socket) => {
      open++;
      return new WorkerStreamSession(socket, daemon, log, settings.maxBodyBytes, () => open--);
    },
  };
}
