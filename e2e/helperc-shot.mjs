import { chromium } from "@playwright/test";
const base = "http://127.0.0.1:3277";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await page.goto(base + "/login"); await page.waitForTimeout(1500);
await page.getByLabel("Email").fill("erin@example.com");
await page.getByLabel("Password").fill("a long admin password");
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("button", { name: "Sign out" }).waitFor();
// A cluster and a pool through tRPC.
const trpc = async (path, input) => {
  const r = await page.request.post(`${base}/api/trpc/${path}`, { data: { json: input } });
  return (await r.json()).result?.data?.json;
};
const cluster = await trpc("cluster.create", { name: "demo" + Date.now() });
const pool = await trpc("pool.create", { clusterId: cluster.id, name: "mirrors" });
await trpc("backend.create", { poolId: pool.id, address: "10.0.0.1", port: 80 });
await page.evaluate((id) => localStorage.setItem("fulcrum.cluster", id), cluster.id);
await page.goto(base + "/listeners"); await page.waitForTimeout(2000);
await page.getByRole("button", { name: /new listener/i }).first().click();
await page.getByLabel("Protocol").selectOption("dns");
await page.getByLabel("Name", { exact: true }).fill("gslb");
await page.getByLabel("Port", { exact: true }).fill("5353");
await page.getByLabel("TTL (seconds)").fill("900");
await page.getByRole("button", { name: "Create listener" }).click();
await page.waitForTimeout(800);
await page.screenshot({ path: "/tmp/helperc/dns-listener-error.png", fullPage: true });
await page.getByLabel("TTL (seconds)").fill("10");
await page.getByRole("button", { name: "Create listener" }).click();
await page.waitForTimeout(1500);
await page.screenshot({ path: "/tmp/helperc/dns-listener-created.png", fullPage: true });
const addRoute = page.getByRole("button", { name: /add route/i }).first();
if (await addRoute.count()) {
  await addRoute.click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: "/tmp/helperc/dns-route.png", fullPage: true });
}
// an http listener + redirect route
await page.goto(base + "/listeners"); await page.waitForTimeout(2000);
await page.getByRole("button", { name: /new listener/i }).first().click();
await page.getByLabel("Name", { exact: true }).fill("downloads");
await page.getByLabel("Port", { exact: true }).fill("8088");
await page.getByRole("button", { name: "Create listener" }).click();
await page.waitForTimeout(1500);
const adds = page.getByRole("button", { name: /add route/i });
await adds.nth((await adds.count()) - 1).click();
await page.getByLabel("Action").selectOption("redirect");
await page.getByLabel("Path prefix").fill("/files");
await page.getByRole("button", { name: "Create route" }).click();
await page.waitForTimeout(1200);
await page.screenshot({ path: "/tmp/helperc/redirect-route-error.png", fullPage: true });
await page.goto(base + "/pools"); await page.waitForTimeout(2000);
await page.waitForTimeout(1500);
await page.screenshot({ path: "/tmp/helperc/pools.png", fullPage: true });
await browser.close();
