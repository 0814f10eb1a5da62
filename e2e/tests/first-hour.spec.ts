import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { ADMIN } from "./console-api";
import { clusterWithPool, repoRoot, signInAdmin } from "./helpers";

/**
 * What a new user notices in the first hour (issue 14): tab titles, the icon, an enrollment
 * command that runs as printed, and the latest config's author shown whole. In a cluster of
 * its own, after the walking skeleton created the admin.
 */
let clusterId = "";
let poolId = "";

const adminPage = (page: Page) => signInAdmin(page, clusterId);

test.beforeAll(async ({ browser }) => {
  ({ clusterId, poolId } = await clusterWithPool(browser, "first-hour", "demo"));
});

test("each page has its own title, also after client-side navigation", async ({ page }) => {
  await page.goto("/login");
  await expect(page).toHaveTitle("Sign in · Fulcrum");
  await adminPage(page);
  const titles: Array<[string, string]> = [
    ["/", "Overview · first-hour · Fulcrum"],
    ["/pools", "Pools · Fulcrum"],
    [`/pools/${poolId}`, "Pools · demo · Fulcrum"],
    ["/listeners", "Listeners · Fulcrum"],
    ["/agents", "Agents · Fulcrum"],
    ["/config", "Config history · Fulcrum"],
    ["/audit", "Audit log · Fulcrum"],
    ["/users", "Users · Fulcrum"],
    ["/tokens", "API tokens · Fulcrum"],
  ];
  for (const [url, title] of titles) {
    await page.goto(url);
    await expect(page).toHaveTitle(title);
  }
  // Moving through the sidebar (no page load) retitles the tab too, and there is one title.
  await page.getByRole("link", { name: "Topology" }).click();
  await expect(page).toHaveTitle("Topology · Fulcrum");
  await page.getByRole("link", { name: "Pools" }).click();
  await expect(page).toHaveTitle("Pools · Fulcrum");
  await expect(page.locator("head title")).toHaveCount(1);
});

test("the console serves its icon: /favicon.ico and the icon the pages link", async ({ page }) => {
  const ico = await page.request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
  expect(ico.headers()["content-type"]).toMatch(/^image\//);
  await page.goto("/login");
  const links = page.locator('head link[rel="icon"]');
  await expect(links.first()).toBeAttached();
  for (const href of await links.evaluateAll((ls) => ls.map((l) => l.getAttribute("href") ?? ""))) {
    const res = await page.request.get(href);
    expect(res.status(), href).toBe(200);
    expect(res.headers()["content-type"], href).toMatch(/^image\//);
  }
});

test("the enroll dialog's command runs as printed from the repository root, with a state directory", async ({
  page,
}) => {
  await adminPage(page);
  await page.goto("/agents");
  await page.getByRole("button", { name: "Enroll an agent" }).click();
  await page.getByRole("button", { name: "Create token" }).click();
  const command = ((await page.getByTestId("enroll-command").textContent()) ?? "").trim();
  expect(command).toMatch(
    /^node apps\/agent\/bin\/fulcrum-agent\.js --console http:\/\/\S+ --token fe_\S+ --state-dir \.fulcrum-agent$/,
  );
  const onNode = ((await page.getByTestId("enroll-command-node").textContent()) ?? "").trim();
  expect(onNode).toMatch(/^node fulcrum-agent\.mjs --console http:\/\/\S+ --token fe_\S+ --state-dir \/\S+$/);
  await expect(page.getByRole("dialog")).toContainText("pnpm --filter @fulcrum/agent bundle");

  // As printed, from the repository root; only the state directory goes to a temporary one
  // (the printed .fulcrum-agent is git-ignored, but a test must not leave a credential in the tree).
  const [node, ...args] = command.split(/\s+/);
  expect(node).toBe("node");
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-first-hour-"));
  args[args.indexOf("--state-dir") + 1] = stateDir;
  const agent = spawn(process.execPath, [...args, "--name", "first-hour-1"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  agent.stdout?.on("data", (d) => {
    output += d;
  });
  agent.stderr?.on("data", (d) => {
    output += d;
  });
  try {
    await page.keyboard.press("Escape");
    const row = page.getByTestId("agent-first-hour-1");
    await expect(row).toContainText("connected", { timeout: 30_000 });
    await expect(row).not.toContainText("disconnected");
    await row.getByRole("link", { name: "first-hour-1" }).click();
    await expect(page).toHaveTitle("Agents · first-hour-1 · Fulcrum");
  } catch (err) {
    console.log(output);
    throw err;
  } finally {
    const exited = new Promise((r) => agent.once("exit", r));
    if (agent.exitCode === null) agent.kill("SIGTERM");
    await exited;
  }
});

test("the Latest config card shows the author's e-mail whole", async ({ page }) => {
  await adminPage(page);
  await page.goto("/");
  const card = page.getByText("Latest config", { exact: true }).locator("..");
  const author = card.getByText(ADMIN.email);
  await expect(author).toBeVisible();
  // Nothing between the e-mail and the card cuts it off (a truncating box is wider inside than out).
  const clipped = await author.evaluate((el) => {
    const cut: string[] = [];
    for (let e: typeof el | null = el; e && e.textContent?.includes("Latest config") !== true; ) {
      if (e.scrollWidth > e.clientWidth + 1) cut.push(`${e.tagName}.${e.className}`);
      e = e.parentElement;
    }
    return cut;
  });
  expect(clipped).toEqual([]);
});
