import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A new PGlite database takes 7–10 s to start (and ~0.9 GB at peak), so
    // hooks get generous time and files run one at a time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
