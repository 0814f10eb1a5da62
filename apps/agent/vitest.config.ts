import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Limits for hangs, not speed rules: the test run's layers share two cores, and tests that
    // start agent processes took over 20 s there (test/helpers/agent-process.ts WAIT_MS).
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
