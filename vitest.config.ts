import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/leak-check.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: e2e files spawn processes of their own, so keep file parallelism modest.
    maxWorkers: 2,
  },
});
