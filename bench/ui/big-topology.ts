// Does the pools board stay usable with a large topology? A real console (with
// its pages) holds a cluster of POOLS pools: one ("a-wide", first on the board)
// with WIDE backends, the others with SMALL each. Debian's Chromium opens the
// board and the wide pool's page; the run prints time to first card, time until
// a card's checkbox selects it and until its drag handle picks it up (keyboard),
// the DOM size and the pool page's load time. With STATS=1 a simulated agent
// reports traffic and health for every backend each second (the board's live
// metrics then carry 10,000 series). Run: pnpm --filter @fulcrum/bench ui:big
// (needs a console build: `pnpm --filter @fulcrum/console build`).
import { mkdtempSync, writeFileSync } from "node:fs";
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
import { chromium, type Page } from "@playwright/test";

const POOLS = Number(process.env.POOLS ?? 200);
const WIDE = Number(process.env.WIDE ?? 10_000);
const SMALL = Number(process.env.SMALL ?? 5);
const RUNS = Number(process.env.RUNS ?? 3);
const STATS = process.env.STATS === "1";
const admin = { email: "bench@example.com", password: "bench password 123" };

/** Polled every frame in the page: the ms since navigation when `selector` first matches. */
const appeared = (selector: string) =>
  `document.querySelector(${JSON.stringify(selector)}) ? performance.now() : false`;

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
    FULCRUM_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "fulcrum-ui-big-")),
    FULCRUM_SECRET: "bench-secret-bench-secret-bench-secret-0123",
    FULCRUM_ADMIN_EMAIL: admin.email,
    FULCRUM_ADMIN_PASSWORD: admin.password,
  },
});
const c = { ...running, url };
const op = callerAs(c, actors.operator);
const clusterId = (await op.cluster.list())[0]!.id;

// Seeded straight into the database: 11,000 topology commits would take the run's whole budget.
const seedStart = Date.now();
const wide = await op.pool.create({ clusterId, name: "a-wide" });
const { prisma } = running.services;
await prisma.pool.createMany({
  data: Array.from({ length: POOLS - 1 }, (_, i) => ({
    clusterId,
    name: `pool-${String(i).padStart(3, "0")}`,
  })),
});
const pools = await prisma.pool.findMany({ where: { clusterId }, select: { id: true, name: true } });
const rows = [
  ...Array.from({ length: WIDE }, (_, i) => ({
    poolId: wide.id,
    name: `w-${i}`,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
  })),
  ...pools
    .filter((p) => p.id !== wide.id)
    .flatMap((p, j) =>
      Array.from({ length: SMALL }, (_, i) => ({
        poolId: p.id,
        name: `${p.name}-${i}`,
        address: `172.16.${j & 255}.${i}`,
        port: 80,
      })),
    ),
];
for (let i = 0; i < rows.length; i += 2000)
  await prisma.backend.createMany({ data: rows.slice(i, i + 2000) });
// One real commit, so the cluster has a config version with every backend in it.
await op.backend.create({ poolId: wide.id, name: "w-last", address: "10.255.255.254", port: 8080 });
console.log(`Seeded ${POOLS} pools, ${rows.length + 1} backends in ${Date.now() - seedStart} ms`);

let feed: NodeJS.Timeout | undefined;
const agent = STATS ? await connectFakeAgent(c, clusterId, "ui-big") : undefined;
if (agent) {
  const wideIds = (await prisma.backend.findMany({ where: { poolId: wide.id }, select: { id: true } })).map(
    (b) => b.id,
  );
  let seq = 0;
  feed = setInterval(() => {
    const end = Math.floor(Date.now() / 1000) * 1000;
    const backends = Object.fromEntries(
      wideIds.map((id) => [
        id,
        { ...delta({ requests: 3, s2xx: 3 }), poolId: wide.id, status: "up" as const },
      ]),
    );
    agent.stats([
      point(end, seq++, {
        pools: { [wide.id]: delta({ requests: 3 * wideIds.length, s2xx: 3 * wideIds.length }) },
        backends,
      }),
    ]);
  }, 1000);
}

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

async function boardRun(page: Page) {
  await page.goto(`${url}/pools`, { waitUntil: "commit" });
  const firstCard = (await (
    await page.waitForFunction(appeared('[data-testid^="card-"]'), null, { polling: "raf", timeout: 120_000 })
  ).jsonValue()) as number;
  // Interactive: a checkbox selects its card, and a drag handle picks its card up from the keyboard.
  await page.getByRole("checkbox", { name: "Select w-0", exact: true }).click();
  const selected = (await (
    await page.waitForFunction(appeared('[data-testid="selection-count"]'), null, { polling: "raf" })
  ).jsonValue()) as number;
  await page.getByRole("button", { name: "Clear selection" }).click();
  await page.getByRole("button", { name: "Move w-0", exact: true }).focus();
  await page.keyboard.press("Space");
  // (the pick-up announcement is soon replaced by the pool it is over)
  await page
    .getByRole("status")
    .filter({ hasText: /Picked up w-0|Over pool a-wide\./ })
    .waitFor({ state: "attached" });
  const pickedUp = (await page.evaluate("performance.now()")) as number;
  await page.keyboard.press("Escape");
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  await page.waitForTimeout(3000); // whatever else loads (metrics) has landed
  const longTasks = (await page.evaluate(
    `(() => { const l = (window.__longTasks ?? []).filter((t) => t.start < ${selected}); return { longTasksBeforeSelect: l.length, longTaskMsBeforeSelect: l.reduce((a, t) => a + t.duration, 0), longestTaskMs: Math.max(0, ...l.map((t) => t.duration)) }; })()`,
  )) as Record<string, number>;
  const dom = (await page.evaluate(
    `({ nodes: document.getElementsByTagName("*").length, cards: document.querySelectorAll('[data-testid^="card-"]').length, columns: document.querySelectorAll('[data-testid^="column-"]').length, heapMiB: Math.round((performance.memory?.usedJSHeapSize ?? 0) / 1048576) })`,
  )) as { nodes: number; cards: number; columns: number; heapMiB: number };
  return { firstCardMs: firstCard, selectedMs: selected, pickedUpMs: pickedUp, ...longTasks, ...dom };
}

async function poolPageRun(page: Page) {
  await page.goto(`${url}/pools/${wide.id}`, { waitUntil: "commit" });
  const headed = (await (
    await page.waitForFunction(appeared("h1"), null, { polling: "raf", timeout: 120_000 })
  ).jsonValue()) as number;
  await page.getByTestId("backend-page").waitFor({ timeout: 120_000 });
  const paged = (await page.evaluate("performance.now()")) as number;
  await page.getByText("Health timeline").waitFor();
  await page.waitForTimeout(2000);
  const nodes = (await page.evaluate(`document.getElementsByTagName("*").length`)) as number;
  return { titleMs: headed, backendsMs: paged, nodes };
}

const round = (n: number) => Math.round(n);
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Long tasks (> 50 ms) from the start of each page load: what keeps the page from answering.
  await page.addInitScript(`window.__longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
      .observe({ type: "longtask", buffered: true });`);
  await page.goto(`${url}/login`);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  const board = [];
  const poolPage = [];
  for (let i = 0; i < RUNS; i++) {
    board.push(await boardRun(page));
    poolPage.push(await poolPageRun(page));
  }
  const result = {
    pools: POOLS,
    backends: rows.length + 1,
    widest: WIDE + 1,
    stats: STATS,
    runs: RUNS,
    board: board.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]))),
    poolPage: poolPage.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]))),
    machine: `${os.cpus().length} vCPU (${os.cpus()[0]?.model ?? "?"}), shared; ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  };
  console.log(
    `Pools board, ${POOLS} pools and one of ${WIDE + 1} backends, headless Chromium (times in ms since navigation):`,
  );
  console.log(JSON.stringify(result, null, 2));
  if (process.env.RESULT) writeFileSync(process.env.RESULT, JSON.stringify(result, null, 2));
} finally {
  if (feed) clearInterval(feed);
  await browser.close();
  await agent?.close();
  await running.close();
}
