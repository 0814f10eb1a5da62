import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3199);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-"));

export default defineConfig({
  testDir: "./tests",
  outputDir: "./artifacts/test-results",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  // The walking skeleton creates the first admin on a fresh console; the console
  // specs sign in as that admin, and the screenshots use the board spec's cluster.
  projects: [
    { name: "skeleton", testMatch: /walking-skeleton\.spec\.ts/ },
    { name: "console", testMatch: /pools-board\.spec\.ts/, dependencies: ["skeleton"] },
    // A cluster of its own ("big") with 2,000 backends.
    { name: "board-big", testMatch: /pools-board-big\.spec\.ts/, dependencies: ["skeleton"] },
    { name: "screenshots", testMatch: /screenshots\.spec\.ts/, dependencies: ["console"] },
    { name: "first-hour", testMatch: /first-hour\.spec\.ts/, dependencies: ["skeleton"] },
    { name: "first-hour-views", testMatch: /first-hour-views\.spec\.ts/, dependencies: ["skeleton"] },
    // Its own cluster ("certificates") and a real agent serving an uploaded certificate (issue 16).
    { name: "certificates", testMatch: /certificates\.spec\.ts/, dependencies: ["skeleton"] },
    // Its own cluster ("tls-console"): Trusted CAs, a pool's TLS to backends, the ticket-key panel.
    { name: "tls-console", testMatch: /tls-console\.spec\.ts/, dependencies: ["skeleton"] },
  ],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download cannot work offline.
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // E2E_CONSOLE_DEV=1 runs Next's dev server instead of the last `next build` (slower pages).
    command: `node --import tsx server.ts${process.env.E2E_CONSOLE_DEV === "1" ? " --dev" : ""}`,
    cwd: "../apps/console",
    // /api/health touches the database, so it answers only once PGlite is up and migrated.
    url: `http://127.0.0.1:${port}/api/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      FULCRUM_PUBLIC_URL: `http://127.0.0.1:${port}`,
      FULCRUM_DATA_DIR: dataDir,
      FULCRUM_SECRET: "e2e-secret-e2e-secret-e2e-secret-0123456789",
      FULCRUM_LOGIN_RATE_LIMIT: "50",
    },
  },
});
