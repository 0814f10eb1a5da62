import { defineConfig } from "vitest/config";

export default defineConfig({
  // Property tests hash and draw many times: seconds when the test run's layers share two cores,
  // and vitest's default 5 s is not meant as a speed rule.
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
