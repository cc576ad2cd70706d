/** The Session object workflow code gets from `ctx.createSession` once `session.created` is applied. */
import type { ActivityOptions, Session } from "./workflow-api.ts";

/** What a session asks of its execution. */
export interface SessionCommands {
  scheduleActivity<Result>(type: string, input: unknown, options: ActivityOptions | undefined, session: number): Promise<Result>;
  completeSession(seq: number): void;
}

export class WorkflowSession implements Session {
  constructor(
    private readonly commands: SessionCommands,
    readonly seq: number,
    readonly queue: string,
    readonly worker: string,
    readonly workerQueue: string,
  ) {}

  activity<Result = unknown>(type: string, input?: unknown, options?: Omit<ActivityOptions, "queue">): Promise<Result> {
    // The session's worker queue decides where it runs; a queue option would only mislead.
    const { queue: _ignored, ...rest } = (options ?? {}) as ActivityOptions;
    return this.commands.scheduleActivity<Result>(type, input, options === undefined ? undefined : rest, this.seq);
  }

  complete(): void {
    this.commands.completeSession(this.seq);
  }
}
