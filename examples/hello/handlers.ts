/**
 * A first handlers module: `tqd work examples/hello/handlers.ts --queue hello` runs it.
 * `tqd` is a virtual module the worker provides at run time; no install is needed.
 */
import { defineHandlers, NonRetryableError } from "tqd";

interface GreetInput {
  name: string;
}

export default defineHandlers({
  /** Returns a greeting; the return value becomes the task's result. */
  greet: async (input: GreetInput, ctx) => {
    if (typeof input?.name !== "string" || input.name === "") {
      // Bad input stays bad: fail for good instead of retrying ({type: "TypeError", message}).
      throw new NonRetryableError('expected input like {"name": "Ada"}', { type: "TypeError" });
    }
    return { greeting: `Hello, ${input.name}!`, attempt: ctx.attempt };
  },

  /**
   * Counts slowly, heartbeating each step (enqueue with a heartbeat timeout to have a stuck
   * attempt retried quickly); a retry resumes from the last step its predecessor reported.
   */
  countdown: async (input: { from?: number }, ctx) => {
    const resumed = ctx.lastHeartbeat as { left?: number } | undefined;
    for (let left = resumed?.left ?? input?.from ?? 3; left > 0; left--) {
      ctx.signal.throwIfAborted(); // lease lost, task canceled, or the worker is stopping
      await ctx.heartbeat({ left });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return "liftoff";
  },
});
