import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The size-limit tests build values a million deep or ten million long: a second alone, but
    // the test run shares two cores between layers, and vitest's default 5 s is not a speed rule.
    testTimeout: 60_000,
  },
});
