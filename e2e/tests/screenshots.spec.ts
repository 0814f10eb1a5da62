import path from "node:path";
import { expect, test } from "@playwright/test";
import { ADMIN, must, signIn, useCluster } from "./console-api";

/**
 * Screenshots of the main pages in light and dark mode, as test artifacts
 * (attached to the report and written to e2e/artifacts/screenshots). Runs after
 * the pools-board spec, on its cluster "board" (pools, backends, a listener, an agent).
 */
const PAGES = [
  ["overview", "/", "board"],
  ["pools-board", "/pools", "Pools"],
  ["pool-detail", "/pools/:pool", "blue"],
  ["topology", "/topology", "Topology"],
  ["listeners", "/listeners", "Listeners"],
  ["config", "/config", "Config history"],
  ["audit", "/audit", "Audit log"],
  ["users", "/users", "Users"],
  ["tokens", "/tokens", "API tokens"],
  ["agents", "/agents", "Agents"],
] as const;

for (const scheme of ["light", "dark"] as const) {
  test(`main pages in ${scheme} mode`, async ({ page }, testInfo) => {
    await page.setViewportSize({ width: 1366, height: 860 });
    await page.emulateMedia({ colorScheme: scheme });
    await signIn(page, ADMIN.email, ADMIN.password);
    const clusters = await must<{ id: string; name: string }[]>(
      page.request,
      "query",
      "cluster.list",
      undefined,
    );
    const cluster = clusters.find((c) => c.name === "board") ?? clusters[0];
    if (!cluster) throw new Error("no cluster");
    const pools = await must<{ id: string; name: string }[]>(page.request, "query", "pool.list", {
      clusterId: cluster.id,
    });
    await useCluster(page, cluster.id);
    for (const [name, href, heading] of PAGES) {
      await page.goto(href.replace(":pool", pools[0]?.id ?? ""));
      await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
      await expect(page.locator("[aria-busy=true]")).toHaveCount(0);
      expect(
        await page.evaluate(() =>
          (
            globalThis as unknown as { document: { documentElement: { className: string } } }
          ).document.documentElement.className
            .split(" ")
            .includes("dark"),
        ),
      ).toBe(scheme === "dark");
      const file = path.resolve(import.meta.dirname, "../artifacts/screenshots", `${name}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach(`${name}-${scheme}`, { path: file, contentType: "image/png" });
    }
  });
}
