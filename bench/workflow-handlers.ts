/** A workflow for the bench's W2-workflow row: `chain` runs `n` no-op activities one after another. */
import { defineHandlers, defineWorkflows } from "tqd";

export default defineHandlers({
  step: async (input: { i: number }) => ({ i: input.i + 1 }),
});

export const workflows = defineWorkflows({
  chain: async (ctx, input: { n: number }) => {
    let i = 0;
    for (let k = 0; k < input.n; k++) i = (await ctx.activity<{ i: number }>("step", { i }, { startToCloseTimeout: "1m" })).i;
    return { i };
  },
});
