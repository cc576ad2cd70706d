/**
 * Whether the server answered the worker's last call. Every call site (polls, heartbeats,
 * complete/fail) reports here, so a lost connection is logged once, and its return once, no
 * matter how many loops and tasks keep retrying in between.
 */
import type { Logger } from "../log/logger.ts";

export class ServerHealth {
  private unreachableSinceMs: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** True between a transport failure and the next answer from the server. */
  get unreachable(): boolean {
    return this.unreachableSinceMs !== undefined;
  }

  /** A call got no HTTP answer; warns only on the transition from reachable. */
  markUnreachable(error: unknown): void {
    if (this.unreachableSinceMs !== undefined) return;
    this.unreachableSinceMs = this.now();
    const reason = error instanceof Error ? error.message : String(error);
    this.log.warn("server unreachable; retrying with backoff", { error: reason });
  }

  /** A call got an HTTP answer (success or API error); logs once when the outage ends. */
  markReachable(): void {
    if (this.unreachableSinceMs === undefined) return;
    const downMs = this.now() - this.unreachableSinceMs;
    this.unreachableSinceMs = undefined;
    this.log.info("server reachable again", { downMs });
  }
}
