/** Handlers for benchmarks: do nothing, so the numbers measure tqd itself. */
import { defineHandlers } from "tqd";

export default defineHandlers({
  noop: async () => undefined,
});
