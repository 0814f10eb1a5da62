import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own console and database; PGlite start-up is CPU-heavy on 2 cores.
    fileParallelism: false,
  },
});
