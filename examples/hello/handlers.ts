/**
 * A first handlers module: `tqd work examples/hello/handlers.ts --queue hello` runs it.
 * `tqd` is a virtual module the worker provides at run time; no install is needed.
 */
import { defineHandlers } from "tqd";

interface GreetInput {
  name: string;
}

export default defineHandlers({
  /** Returns a greeting; the return value becomes the task's result. */
  greet: async (input: GreetInput, ctx) => {
    if (typeof input?.name !== "string" || input.name === "") {
      // A thrown error fails the attempt with {type: "TypeError", message}.
      throw new TypeError('expected input like {"name": "Ada"}');
    }
    return { greeting: `Hello, ${input.name}!`, attempt: ctx.attempt };
  },

  /** Counts slowly, heartbeating each step so a long task keeps its lease. */
  countdown: async (input: { from?: number }, ctx) => {
    for (let left = input?.from ?? 3; left > 0; left--) {
      ctx.signal.throwIfAborted();
      await ctx.heartbeat({ left });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return "liftoff";
  },
});
