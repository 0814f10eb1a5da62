import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A new PGlite database takes 7–10 s to start (and ~0.9 GB at peak), so
    // tests and hooks get generous time and files run one at a time. Limits for hangs, not
    // speed rules: with the test run's layers sharing two cores, opening one twice took over 60 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
