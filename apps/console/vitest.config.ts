import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/postgres/ needs a PostgreSQL server (several processes on one database);
    // scripts/test.sh runs the suite again with DATABASE_URL set.
    include: [
      "test/*.test.ts",
      "src/**/*.test.ts",
      ...(process.env.DATABASE_URL ? ["test/postgres/*.test.ts"] : []),
    ],
    // Limits for hangs, not speed rules: the test run's layers share two cores (CONTRIBUTING.md).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each file starts its own console and database; PGlite start-up is CPU-heavy on 2 cores.
    fileParallelism: false,
  },
});
