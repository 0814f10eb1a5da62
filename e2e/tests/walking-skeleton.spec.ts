import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { argsOf, freePort, spawnAgent, startNamedBackend } from "./helpers";

const ADMIN = { name: "Erin Example", email: "erin@example.com", password: "a long admin password" };
const shots = path.resolve(import.meta.dirname, "../artifacts/screenshots");

/** Topology changes go through the dry run: its effect and diff, then Apply, then Done. */
async function applyChange(page: Page) {
  await page.getByTestId("change-apply").click();
  await page.getByTestId("change-dialog").getByRole("button", { name: "Done" }).click();
}

test("first admin → login → topology in the browser → real agent → traffic alternates", async ({ page }) => {
  const alpha = await startNamedBackend("alpha");
  const bravo = await startNamedBackend("bravo");
  const listenerPort = await freePort();
  let agent: ReturnType<typeof spawnAgent> | undefined;
  try {
    // First run: every page leads to setup.
    await page.goto("/");
    await expect(page).toHaveURL(/\/setup$/);
    await page.getByLabel("Your name").fill(ADMIN.name);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

    // Sign out and back in through the login page.
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Wrong email or password.")).toBeVisible();
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

    // A pool with two backends.
    await page.getByRole("link", { name: "Pools" }).click();
    // The list view has the per-pool forms; the board (the default) is covered by pools-board.spec.ts.
    await page.getByRole("button", { name: /^list$/i }).click();
    await page.getByRole("button", { name: "New pool" }).click();
    await page.getByLabel("Name").fill("app");
    await page.getByLabel("Policy").selectOption("round_robin");
    await page.getByRole("button", { name: "Create pool" }).click();
    // Every topology change goes through the dry run: effect and diff, then apply.
    await applyChange(page);
    const pool = page.getByTestId("pool-app");
    await expect(pool).toBeVisible();
    for (const b of [alpha, bravo]) {
      await pool.getByRole("button", { name: "Add backend" }).click();
      const form = pool;
      await form.getByLabel("Backend name").fill(b.name);
      await form.getByLabel("Address").fill("127.0.0.1");
      await form.getByLabel("Port").fill(String(b.port));
      await form.getByRole("button", { name: "Save backend" }).click();
      await applyChange(page);
      // The form closes once the change is applied and the dialog is done.
      await expect(form.getByLabel("Backend name")).toHaveCount(0);
      await expect(pool).toContainText(b.name);
    }

    // A listener routing everything to the pool.
    await page.getByRole("link", { name: "Listeners" }).click();
    await page.getByRole("button", { name: "New listener" }).click();
    await page.getByLabel("Name").fill("web");
    await page.getByLabel("Protocol").selectOption("http");
    await page.getByLabel("Bind address").fill("127.0.0.1");
    await page.getByLabel("Port").fill(String(listenerPort));
    await page.getByRole("button", { name: "Create listener" }).click();
    await applyChange(page);
    await expect(page.getByText(`127.0.0.1:${listenerPort}`)).toBeVisible();
    const listener = page.getByTestId("listener-web");
    await listener.getByRole("button", { name: "Add route" }).click();
    await listener.getByLabel("Pool").selectOption({ label: "app" });
    await listener.getByRole("button", { name: "Create route" }).click();
    await applyChange(page);
    await expect(listener).toContainText("any host");

    // Enroll a real agent with the command the console shows.
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByRole("button", { name: "Enroll an agent" }).click();
    await page.getByRole("button", { name: "Create token" }).click();
    const command = ((await page.getByTestId("enroll-command").textContent()) ?? "").trim();
    expect(command).toMatch(
      /^node apps\/agent\/bin\/fulcrum-agent\.js --console \S+ --token fe_\S+ --state-dir \S+$/,
    );
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-agent-"));
    // argsOf drops "node"; the bin path goes too (spawnAgent adds it). The later --state-dir wins.
    agent = spawnAgent([...argsOf(command).slice(1), "--state-dir", stateDir, "--name", "lb-1"]);
    await page.keyboard.press("Escape");
    const agentRow = page.getByTestId("agent-lb-1");
    await expect(agentRow).toContainText("connected", { timeout: 30_000 });
    await expect(agentRow).not.toContainText("disconnected");

    // Requests through the agent's listener alternate between the two backends.
    const bodies: string[] = [];
    await expect
      .poll(
        async () => {
          const res = await fetch(`http://127.0.0.1:${listenerPort}/`).catch(() => null);
          return res?.status ?? 0;
        },
        { timeout: 20_000 },
      )
      .toBe(200);
    for (let i = 0; i < 6; i++) bodies.push(await (await fetch(`http://127.0.0.1:${listenerPort}/`)).text());
    expect(new Set(bodies)).toEqual(new Set(["alpha", "bravo"]));
    for (let i = 1; i < bodies.length; i++) expect(bodies[i]).not.toBe(bodies[i - 1]);

    // Live traffic: requests through the agent show up on the overview's graph within seconds.
    await page.getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("img", { name: "Requests per second" }).first()).toBeVisible();
    const rpsNow = async () =>
      Number.parseFloat((await page.getByTestId("rps-now").textContent()) ?? "") || 0;
    // Quiet first, so what follows is this traffic's doing and not the requests above.
    await expect.poll(rpsNow, { timeout: 15_000 }).toBe(0);
    const trafficUntil = Date.now() + 10_000;
    const trafficStart = Date.now();
    const load = (async () => {
      while (Date.now() < trafficUntil) {
        await fetch(`http://127.0.0.1:${listenerPort}/`).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await expect.poll(rpsNow, { timeout: 3_000, intervals: [100] }).toBeGreaterThan(0);
    console.log(`requests/s on the live graph ${Date.now() - trafficStart} ms after traffic started`);
    await load;
    await page.screenshot({ path: path.join(shots, "overview.png"), fullPage: true });

    // Config history: v5 added the route; rolling back to v4 takes it off the running agent.
    await page.getByRole("link", { name: "Config history" }).click();
    await page.getByRole("button", { name: /^v5/ }).click();
    await expect(page.getByRole("list", { name: "Changes in v5" })).toContainText(
      "route any host / on listener web",
    );
    await page.getByRole("button", { name: /^v4/ }).click();
    await page.getByRole("button", { name: "Roll back to v4" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Roll back to v4" }).click();
    await page.getByTestId("change-dialog").getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("button", { name: /^v6/ })).toBeVisible();
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${listenerPort}/`)).status, { timeout: 15_000 })
      .toBe(404);
    await page.screenshot({ path: path.join(shots, "config-history.png"), fullPage: true });
    await page.getByRole("button", { name: /^v5/ }).click();
    await page.getByRole("button", { name: "Roll back to v5" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Roll back to v5" }).click();
    await page.getByTestId("change-dialog").getByRole("button", { name: "Done" }).click();
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${listenerPort}/`)).status, { timeout: 15_000 })
      .toBe(200);

    await page.getByRole("link", { name: "Agents" }).click();
    await page.screenshot({ path: path.join(shots, "agents.png"), fullPage: true });
    await page.getByRole("link", { name: "Pools" }).click();
    await expect(page.getByTestId("pool-app")).toContainText("bravo");
    await page.screenshot({ path: path.join(shots, "pools.png"), fullPage: true });
    await page.getByRole("link", { name: "Listeners" }).click();
    await page.screenshot({ path: path.join(shots, "listeners.png"), fullPage: true });
  } finally {
    if (agent) {
      if (test.info().status !== test.info().expectedStatus) console.log(agent.output());
      await agent.stop();
    }
    await alpha.close();
    await bravo.close();
  }
});

test("a viewer sees no mutation controls, and the server refuses the mutation anyway", async ({ page }) => {
  // Runs after the first test on the same console: the admin and the pool "app" exist.
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Vic Viewer");
  await page.getByLabel("Email").fill("vic@example.com");
  await page.getByLabel("Password").fill("viewer password!");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("vic@example.com", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();

  await page.getByLabel("Email").fill("vic@example.com");
  await page.getByLabel("Password").fill("viewer password!");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("viewer", { exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Pools" }).click();
  await page.getByRole("button", { name: /^list$/i }).click();
  const pool = page.getByTestId("pool-app");
  await expect(pool).toContainText("alpha");
  for (const name of ["New pool", "Add backend", "Drain", "Disable", "Edit", "Delete"]) {
    await expect(page.getByRole("button", { name })).toHaveCount(0);
  }
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await page.getByRole("link", { name: "Listeners" }).click();
  await expect(page.getByTestId("listener-web")).toBeVisible();
  await expect(page.getByRole("button", { name: "New listener" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Add route" })).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, "listeners-as-viewer.png"), fullPage: true });

  // The same session calling the API directly is refused.
  const clusters = await page.request.get("/api/trpc/cluster.list");
  const clusterId = ((await clusters.json()) as { result: { data: { json: Array<{ id: string }> } } }).result
    .data.json[0]!.id;
  const res = await page.request.post("/api/trpc/pool.create", {
    data: { json: { clusterId, name: "sneaky" } },
  });
  expect(res.status()).toBe(403);
});
