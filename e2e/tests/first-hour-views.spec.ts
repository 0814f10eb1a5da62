import { mkdtempSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { type Browser, expect, type Locator, type Page, test } from "@playwright/test";
import { ADMIN, must, signIn, useCluster } from "./console-api";
import { argsOf, freePort, spawnAgent, startNamedBackend } from "./helpers";
import { runTraffic } from "./traffic";

/**
 * What the console shows must be what the agent did (issue 14, items 1-4 and 11): the health
 * timeline against the board, a toast that follows the rollout, the dry run of a move to a pool
 * without a route, grouped version markers, weights under a policy that ignores them. Pool
 * "demo" (round robin, checks on /healthz, outlier detection) with alpha, bravo and charlie, whose
 * answers the test can turn into 500s while its health check keeps passing; pool "spare" has no route.
 */
test.describe.configure({ mode: "serial" });

let backends: Array<{ close(): Promise<void> }> = [];
let agent: ReturnType<typeof spawnAgent> | undefined;
let traffic: ReturnType<typeof runTraffic> | undefined;
let clusterId = "";
let listenerPort = 0;
const ids: Record<string, string> = {};
const charlie = { failing: false };

/** A backend whose requests fail on demand while /healthz keeps answering 200: only outlier detection sees it. */
async function startCharlie() {
  const server = http.createServer((req, res) => {
    if (req.url === "/healthz" || !charlie.failing) res.end("charlie");
    else {
      res.statusCode = 500;
      res.end("charlie: failed");
    }
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name: "charlie",
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function adminPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await useCluster(page, clusterId);
  await signIn(page, ADMIN.email, ADMIN.password);
  return page;
}

const background = (l: Locator) =>
  l.evaluate(
    (n) =>
      (
        globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
      ).getComputedStyle(n).backgroundColor,
  );

test.beforeAll(async ({ browser }) => {
  const named = await Promise.all(["alpha", "bravo"].map(startNamedBackend));
  const c = await startCharlie();
  backends = [...named, c];
  listenerPort = await freePort();
  const page = await browser.newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  const r = page.request;
  clusterId = (await must<{ id: string }>(r, "mutation", "cluster.create", { name: "views" })).id;
  ids.demo = (
    await must<{ id: string }>(r, "mutation", "pool.create", {
      clusterId,
      name: "demo",
      policy: "round_robin",
      healthCheck: { type: "http", path: "/healthz", intervalMs: 1000, timeoutMs: 800, rise: 1, fall: 2 },
      outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 120_000 },
      slowStartMs: 0,
    })
  ).id;
  ids.spare = (await must<{ id: string }>(r, "mutation", "pool.create", { clusterId, name: "spare" })).id;
  for (const b of [...named, c]) {
    ids[b.name] = (
      await must<{ id: string }>(r, "mutation", "backend.create", {
        poolId: ids.demo,
        name: b.name,
        address: "127.0.0.1",
        port: b.port,
      })
    ).id;
  }
  const listener = await must<{ id: string }>(r, "mutation", "listener.create", {
    clusterId,
    name: "web",
    protocol: "http",
    bindAddress: "127.0.0.1",
    port: listenerPort,
  });
  await must(r, "mutation", "route.create", { listenerId: listener.id, poolId: ids.demo });
  const token = await must<{ command: string }>(r, "mutation", "agent.createEnrollmentToken", { clusterId });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-views-agent-"));
  agent = spawnAgent([...argsOf(token.command), "--state-dir", stateDir, "--name", "lb-views"]);
  const url = `http://127.0.0.1:${listenerPort}/`;
  await expect
    .poll(async () => (await fetch(url).catch(() => null))?.status ?? 0, { timeout: 30_000 })
    .toBe(200);
  traffic = runTraffic([url], 2);
  await page.close();
});

test.afterAll(async () => {
  await traffic?.stop();
  if (agent) {
    if (test.info().status !== test.info().expectedStatus) console.log(agent.output());
    await agent.stop();
  }
  await Promise.all(backends.map((b) => b.close()));
});

test("an ejected backend: the board and the pool's health timeline use the same word and colour", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const alphaHealth = page.getByTestId("backend-health-alpha");
  await expect(alphaHealth).toContainText("up", { timeout: 20_000 });
  charlie.failing = true;
  const charlieHealth = page.getByTestId("backend-health-charlie");
  // Its checks still pass: only the agent's outlier detection takes it out.
  await expect(charlieHealth).toContainText("ejected", { timeout: 30_000 });
  charlie.failing = false;
  const boardEjected = await background(charlieHealth.locator("[data-status] > span").first());
  const boardUp = await background(alphaHealth.locator("[data-status] > span").first());

  await page.goto(`/pools/${ids.demo}`);
  // The pool's connection graph says what it counts (not the listeners' client connections).
  await expect(page.getByRole("heading", { name: "Backend connections in use" })).toBeVisible();
  const charlieBar = page.getByTestId("health-timeline-charlie");
  const ejected = charlieBar.locator('[data-status="ejected"]');
  await expect(ejected).toHaveCount(1, { timeout: 20_000 });
  await expect(ejected).toHaveAttribute("title", /^ejected from .*consecutive failures/);
  expect(await background(ejected)).toBe(boardEjected);
  // Still ejected now (120 s), even though its health checks pass all along.
  await expect(charlieBar).toHaveAttribute("aria-label", /ejected now/);
  // alpha: unknown only until the agent ran the config (seconds), then up all along in the board's green.
  const alphaBar = page.getByTestId("health-timeline-alpha");
  await expect(alphaBar.locator('[data-status="up"]')).toHaveCount(1);
  const alphaStatuses = await alphaBar
    .locator("[data-status]")
    .evaluateAll((ns) => ns.map((n) => n.getAttribute("data-status")));
  expect(alphaStatuses.filter((x, i) => !(i === 0 && x === "unknown"))).toEqual(["up"]);
  expect(await background(alphaBar.locator('[data-status="up"]'))).toBe(boardUp);
  // "disabled" and "unknown" do not share a colour.
  const legend = page.getByText("Last 5 min").locator("..");
  const swatch = (word: string) =>
    legend.locator("span", { hasText: new RegExp(`^${word}$`) }).locator("span");
  expect(await background(swatch("disabled"))).not.toBe(await background(swatch("unknown")));
  await page.close();
});

test("a drain: 'connections to drain' in the dry run, and a toast that follows the rollout to the ACK", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  await page.getByRole("checkbox", { name: "Select bravo" }).check();
  await page
    .getByRole("toolbar", { name: "Selected backends" })
    .getByRole("button", { name: "Drain" })
    .click();
  const dialog = page.getByTestId("change-dialog");
  await expect(dialog.getByTestId("change-effect")).toContainText(/in-flight connections? to drain/);
  await dialog.getByRole("button", { name: "Drain", exact: true }).click();
  await expect(dialog.getByTestId("rollout-lb-views")).toContainText("ACK", { timeout: 20_000 });
  const toast = page.getByTestId("toast").filter({ hasText: /applied/ });
  await expect(toast).toContainText("1 agent ACKed it", { timeout: 15_000 });
  await expect(page.getByTestId("toast").filter({ hasText: "rolling out" })).toHaveCount(0);
  // Undo: a second version seconds after the first (for the markers below), followed the same way.
  await dialog.getByRole("button", { name: "Undo" }).click();
  await expect(page.getByTestId("toast").filter({ hasText: /^Undone: v\d+ applied/ })).toBeVisible({
    timeout: 20_000,
  });
  await dialog.getByRole("button", { name: "Done" }).click();
  await page.close();
});

test("config versions made seconds apart share one marker label on the graphs", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/");
  // The drain and its undo (and the setup's versions): one label names them all.
  const grouped = page.getByRole("link", { name: /^Config versions v\d+[–,]/ }).first();
  await expect(grouped).toBeVisible({ timeout: 20_000 });
  await expect(grouped).toHaveText(/^v\d+(–v\d+|, v\d+)/);
  await page.close();
});

test("moving a backend to a pool no route reaches: the dry run expects no traffic there", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const handle = page.getByRole("button", { name: "Move alpha" });
  await handle.focus();
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("status").filter({ hasText: "Over pool spare." })).toBeAttached();
  await page.keyboard.press("Space");
  const dialog = page.getByTestId("change-dialog");
  const effect = dialog.getByTestId("change-effect");
  await expect(effect.getByTestId("pool-unrouted")).toContainText("no route sends traffic here");
  // alpha joins spare at 0/s (its rate there), and stays at 0/s.
  const row = effect.getByTestId("effect-pool-spare").locator("tr", { hasText: "alpha" });
  await expect(row).toContainText("0.0/s → 0.0/s");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.close();
});

test("the backend form of a round-robin pool says weights are ignored there", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  await page.getByRole("button", { name: "Add backend to pool demo" }).click();
  await expect(page.getByTestId("weight-ignored")).toContainText("Round robin ignores weights");
  await page.close();
});

test("the Agents page shows a node's workers with their CPU, and a killed worker's restart", async ({
  browser,
}) => {
  // A cluster of its own without listeners, so this agent takes no port from lb-views and its
  // rollouts stay out of the other tests' toasts.
  const setup = await browser.newPage();
  await signIn(setup, ADMIN.email, ADMIN.password);
  const own = (
    await must<{ id: string }>(setup.request, "mutation", "cluster.create", { name: "views-workers" })
  ).id;
  const token = await must<{ command: string }>(setup.request, "mutation", "agent.createEnrollmentToken", {
    clusterId: own,
  });
  await setup.close();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-workers-agent-"));
  const node = spawnAgent([
    ...argsOf(token.command),
    "--state-dir",
    stateDir,
    "--name",
    "lb-workers",
    "--workers",
    "2",
  ]);
  try {
    const page = await browser.newPage();
    await useCluster(page, own);
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/agents");
    const cell = page.getByTestId("agent-workers-lb-workers");
    // The report comes with the agent's heartbeat (every 5 s) once it is connected.
    await expect(cell.getByTestId("worker-count")).toHaveText("2 workers", { timeout: 60_000 });
    for (const i of [0, 1]) {
      await expect(cell.getByTestId(`worker-${i}`)).toHaveAttribute("data-state", "serving");
      await expect(cell.getByTestId(`worker-${i}`).getByTestId("worker-cpu")).toHaveText(/^\d+\.\d%$/);
    }
    await expect(cell.getByTestId("worker-restart-warning")).toHaveCount(0);

    // The agent's page lists each worker's pid: kill worker 1 the way a crash would.
    await page.getByRole("link", { name: "lb-workers" }).click();
    const row = page.getByTestId("worker-row-1");
    const pid = Number(await row.locator("td").nth(1).textContent());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    await expect(row).toContainText("exited (SIGKILL)", { timeout: 60_000 });
    await expect(row.locator("td").nth(4)).toHaveText("1");

    await page.goto("/agents");
    await expect(cell.getByTestId("worker-restart-warning")).toContainText("restarted");
    await expect(cell.getByTestId("worker-1")).toContainText("↻1");
    await expect(cell.getByTestId("worker-0")).not.toContainText("↻");
    await page.close();
  } finally {
    if (test.info().status !== test.info().expectedStatus) console.log(node.output());
    await node.stop();
  }
});
