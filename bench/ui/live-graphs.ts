// Do the live graphs keep up at 1 Hz with 50 series? A real console (with its
// pages) gets one simulated agent's stats for a pool of 50 backends every second;
// Debian's Chromium opens the pool page and records long tasks, frame rate and
// layout shifts while the graphs stream. Run: pnpm --filter @fulcrum/bench ui
// (needs a console build: `pnpm --filter @fulcrum/console build`).
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  actors,
  callerAs,
  connectFakeAgent,
  consoleDir,
  delta,
  freePort,
  point,
  startConsole,
} from "@fulcrum/console/testing";
import { chromium } from "@playwright/test";

const BACKENDS = Number(process.env.BACKENDS ?? 50);
const MEASURE_S = Number(process.env.MEASURE_SECONDS ?? 20);
const admin = { email: "bench@example.com", password: "bench password 123" };

/**
 * Runs in the page. A string, not a function: tsx would add helpers to a
 * function's source that do not exist in the browser.
 */
const MEASURE_IN_PAGE = `async (seconds) => {
  const longTasks = [];
  let shift = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push(e.duration); })
    .observe({ type: "longtask", buffered: false });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) shift += e.value; })
    .observe({ type: "layout-shift", buffered: false });
  const height0 = document.documentElement.scrollHeight;
  let frames = 0, worstGap = 0, last = performance.now();
  const stop = performance.now() + seconds * 1000;
  await new Promise((resolve) => {
    const tick = (now) => {
      frames++;
      worstGap = Math.max(worstGap, now - last);
      last = now;
      if (now < stop) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  return {
    fps: frames / seconds,
    worstFrameGapMs: worstGap,
    longTasks: longTasks.length,
    longestTaskMs: Math.max(0, ...longTasks),
    longTaskMsPerSecond: longTasks.reduce((a, b) => a + b, 0) / seconds,
    layoutShift: shift,
    heightChange: document.documentElement.scrollHeight - height0,
  };
}`;

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const running = await startConsole({
  dev: false,
  dir: consoleDir,
  pages: true,
  env: {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    FULCRUM_PUBLIC_URL: url,
    FULCRUM_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "fulcrum-ui-bench-")),
    FULCRUM_SECRET: "bench-secret-bench-secret-bench-secret-0123",
    FULCRUM_ADMIN_EMAIL: admin.email,
    FULCRUM_ADMIN_PASSWORD: admin.password,
  },
});
const c = { ...running, url };
const op = callerAs(c, actors.operator);
const clusterId = (await op.cluster.list())[0]!.id;
const pool = await op.pool.create({ clusterId, name: "wide" });
const backendIds: string[] = [];
for (let i = 0; i < BACKENDS; i++) {
  backendIds.push(
    (await op.backend.create({ poolId: pool.id, address: `10.0.${i >> 8}.${i & 255}`, port: 80 })).id,
  );
}
const agent = await connectFakeAgent(c, clusterId, "ui-bench");

// One point a second, each backend with its own wandering rate.
let seq = 0;
const feed = setInterval(() => {
  const end = Math.floor(Date.now() / 1000) * 1000;
  const backends = Object.fromEntries(
    backendIds.map((id, i) => {
      const rps = Math.round(20 + 15 * Math.sin(end / 7000 + i) + Math.random() * 5);
      return [id, { ...delta({ requests: rps, s2xx: rps }), poolId: pool.id, status: "up" as const }];
    }),
  );
  const total = Object.values(backends).reduce((n, b) => n + b.requests, 0);
  agent.stats([
    point(end, seq++, { pools: { [pool.id]: delta({ requests: total, s2xx: total }) }, backends }),
  ]);
}, 1000);

const browser = await chromium.launch({
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
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${url}/login`);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  await page.goto(`${url}/pools/${pool.id}`);
  await page.getByRole("img", { name: "Requests per second by backend" }).waitFor();
  await page.waitForTimeout(5000); // history loaded, stream running
  const result = (await page.evaluate(`(${MEASURE_IN_PAGE})(${MEASURE_S})`)) as Record<string, number>;
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log(
    `Live graphs, pool page with ${BACKENDS} backend series streaming at 1 Hz, ${MEASURE_S} s in headless Chromium:`,
  );
  console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(feed);
  await browser.close();
  await agent.close();
  await running.close();
}
