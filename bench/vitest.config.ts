import { defineConfig } from "vitest/config";

// Only parser unit tests; the benchmark itself never runs in the test suite.
export default defineConfig({
  test: { include: ["proxy/**/*.test.ts"] },
});
