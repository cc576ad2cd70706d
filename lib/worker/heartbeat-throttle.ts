/**
 * Paces one task's heartbeats so a chatty handler cannot flood the server (every heartbeat is a
 * durable write there). The first call in a quiet period is sent at once and its promise waits
 * for the answer, so the handler sees the new deadline and any cancellation. Calls inside the
 * window that a send opens resolve at once; only their latest details are kept, and one trailing
 * send carries them when the window closes, so the last details are never lost. Sends never
 * overlap, which keeps the details the server stores in call order.
 */
import type { Clock } from "../clock/clock.ts";

/** The window is this share of the task's heartbeat timeout, as in Temporal's SDKs. */
export const HEARTBEAT_THROTTLE_RATIO = 0.8;
/**
 * Window for tasks without a heartbeat timeout, in ms. Their heartbeats extend nothing; they only
 * store details and fetch cancellation requests, so one a second keeps cancellation prompt while
 * bounding a tight loop's heartbeats to one write a second per task.
 */
export const DEFAULT_HEARTBEAT_THROTTLE_MS = 1_000;
/**
 * Longest window, in ms: with an hour-long heartbeat timeout, 48 minutes between sends would
 * leave a cancellation request unnoticed for that long. Sending more often is always allowed.
 */
export const MAX_HEARTBEAT_THROTTLE_MS = 60_000;

/** The shortest gap between two heartbeat sends for a task, in ms. */
export function heartbeatThrottleMs(heartbeatTimeoutMs: number | undefined): number {
  if (heartbeatTimeoutMs === undefined || heartbeatTimeoutMs <= 0) return DEFAULT_HEARTBEAT_THROTTLE_MS;
  return Math.min(MAX_HEARTBEAT_THROTTLE_MS, Math.floor(heartbeatTimeoutMs * HEARTBEAT_THROTTLE_RATIO));
}

/** A shared abort reason: `abort()` without one builds a DOMException (with a stack) per call. */
const FLUSHED = new Error("heartbeats flushed");

export class HeartbeatThrottle {
  /** Details not sent yet; a wrapper, so that "nothing pending" differs from "no details". */
  private pending: { details: unknown } | undefined;
  /** Epoch ms before which a send waits: the last send's start plus the window. */
  private nextSendAtMs = Number.NEGATIVE_INFINITY;
  /** The loop that sends pending details; undefined while nothing is pending or in flight. */
  private loop: Promise<void> | undefined;
  private currentSend: Promise<void> | undefined;
  /** Set by `flush()`: the window no longer applies. */
  private flushing = false;
  /** Wakes a loop sleeping out the window; made only when a loop sleeps (most tasks never do). */
  private wake: AbortController | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    /** Sends one heartbeat; must never reject. */
    private readonly send: (details: unknown) => Promise<void>,
    /** Aborted when the lease is over: nothing more is sent. */
    private readonly stop: AbortSignal,
  ) {}

  /**
   * Queues `details` (undefined keeps the pending ones, as the server keeps its stored ones).
   * Resolves when the send it started is answered, or at once when the window is closed.
   */
  record(details: unknown): Promise<void> {
    if (this.stop.aborted) return Promise.resolve();
    this.pending = { details: details === undefined ? this.pending?.details : details };
    if (this.loop) return Promise.resolve();
    this.loop = this.sendPending();
    // The loop runs synchronously up to its first await: a send if the window was open.
    return this.currentSend ?? Promise.resolve();
  }

  /** Sends pending details now, ignoring the window, and waits for the answers. */
  async flush(): Promise<void> {
    this.flushing = true;
    if (!this.loop) return;
    this.wake?.abort(FLUSHED);
    await this.loop;
  }

  private async sendPending(): Promise<void> {
    this.currentSend = undefined;
    try {
      while (this.pending && !this.stop.aborted) {
        const waitMs = this.flushing ? 0 : this.nextSendAtMs - this.clock.now();
        if (waitMs > 0) {
          this.wake ??= new AbortController();
          await this.clock.sleep(waitMs, AbortSignal.any([this.stop, this.wake.signal]));
          continue;
        }
        const { details } = this.pending;
        this.pending = undefined;
        this.nextSendAtMs = this.clock.now() + this.windowMs;
        this.currentSend = this.send(details);
        await this.currentSend;
      }
    } finally {
      // Runs in the same job as the last loop check, so no call can slip in between.
      this.loop = undefined;
    }
  }
}
