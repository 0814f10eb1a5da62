import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, expect, type Locator, type Page, test } from "@playwright/test";
import { ADMIN, call, must, signIn, useCluster } from "./console-api";
import { argsOf, freePort, spawnAgent, startNamedBackend } from "./helpers";
import { runTraffic, sample } from "./traffic";

/**
 * The pools board against a real console, a real agent and real backends that
 * answer with their own names: pool "blue" (blue-1, blue-2) behind /blue, pool
 * "green" (green-1) behind /green, in a cluster of its own.
 */
test.describe.configure({ mode: "serial" });

type Backends = Awaited<ReturnType<typeof startNamedBackend>>[];
let backends: Backends = [];
let agent: ReturnType<typeof spawnAgent> | undefined;
let clusterId = "";
let listenerPort = 0;
const ids: Record<string, string> = {};
const url = (p: string) => `http://127.0.0.1:${listenerPort}${p}`;

async function adminPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await useCluster(page, clusterId);
  await signIn(page, ADMIN.email, ADMIN.password);
  return page;
}

test.beforeAll(async ({ browser }) => {
  backends = await Promise.all(["blue-1", "blue-2", "green-1"].map(startNamedBackend));
  listenerPort = await freePort();
  const page = await browser.newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  const r = page.request;
  const cluster = await must<{ id: string }>(r, "mutation", "cluster.create", { name: "board" });
  clusterId = cluster.id;
  for (const name of ["blue", "green"]) {
    const pool = await must<{ id: string }>(r, "mutation", "pool.create", {
      clusterId,
      name,
      policy: "round_robin",
    });
    ids[name] = pool.id;
  }
  for (const b of backends) {
    const created = await must<{ id: string }>(r, "mutation", "backend.create", {
      poolId: ids[b.name.split("-")[0] as string],
      name: b.name,
      address: "127.0.0.1",
      port: b.port,
    });
    ids[b.name] = created.id;
  }
  const listener = await must<{ id: string }>(r, "mutation", "listener.create", {
    clusterId,
    name: "web",
    protocol: "http",
    bindAddress: "127.0.0.1",
    port: listenerPort,
  });
  ids.web = listener.id;
  for (const name of ["blue", "green"]) {
    const route = await must<{ id: string }>(r, "mutation", "route.create", {
      listenerId: listener.id,
      pathPrefix: `/${name}`,
      poolId: ids[name],
    });
    ids[`route-${name}`] = route.id;
  }
  const token = await must<{ command: string }>(r, "mutation", "agent.createEnrollmentToken", { clusterId });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-board-agent-"));
  agent = spawnAgent([...argsOf(token.command), "--state-dir", stateDir, "--name", "lb-board"]);
  await expect
    .poll(async () => (await fetch(url("/green")).catch(() => null))?.status ?? 0, { timeout: 30_000 })
    .toBe(200);
  await page.close();
});

test.afterAll(async () => {
  if (agent) {
    if (test.info().status !== test.info().expectedStatus) console.log(agent.output());
    await agent.stop();
  }
  await Promise.all(backends.map((b) => b.close()));
});

async function confirmInDialog(page: Page, button: string) {
  const dialog = page.getByTestId("change-dialog");
  await expect(dialog.getByTestId("change-effect")).toBeVisible();
  await dialog.getByRole("button", { name: button, exact: true }).click();
  await expect(dialog.getByTestId("rollout-lb-board")).toContainText("ACK", { timeout: 20_000 });
  return dialog;
}

/** A real pointer drag: press on the handle, pass the sensor's 4 px threshold, drop on the target's centre. */
async function dragWithMouse(page: Page, handle: Locator, target: Locator) {
  const from = await handle.boundingBox();
  const to = await target.boundingBox();
  if (!from || !to) throw new Error("board not laid out");
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + 10, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 15 });
  await page.mouse.up();
}

/** Undo in the open dialog, then wait until the inverse version is ACKed. */
async function undoInDialog(dialog: Locator) {
  await dialog.getByRole("button", { name: "Undo" }).click();
  // Undo disappears once the inverse is applied; only then is the rollout the new version's.
  await expect(dialog.getByRole("button", { name: /^Undo/ })).toHaveCount(0);
  await expect(dialog.getByTestId("rollout-lb-board")).toContainText("ACK", { timeout: 20_000 });
}

/** Polls until `url` answers with exactly the backends in `names` (each at least once in 12 requests). */
async function expectServedBy(url: string, names: string[]) {
  await expect
    .poll(async () => [...new Set(await sample(url, 12))].sort(), { timeout: 15_000 })
    .toEqual([...names].sort());
}

test("drag a backend to another pool: it serves there, not in the old pool, and no request fails", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const handle = page.getByRole("button", { name: "Move blue-2" });
  const green = page.getByTestId("column-green");
  await expect(handle).toBeVisible();
  await expect(page.getByTestId("column-blue")).toContainText("blue-2");

  const traffic = runTraffic([url("/blue"), url("/green")]);
  try {
    await dragWithMouse(page, handle, green);

    const summary = page.getByTestId("change-summary");
    await expect(summary).toContainText("blue-2 drains from blue: in-flight requests finish");
    await expect(summary).toContainText("joins green at full weight");
    await expect(summary).toContainText("1 agent will receive version");
    await page.screenshot({ path: shot("board-move-dialog") });
    const dialog = await confirmInDialog(page, "Move");
    await expect(dialog.getByRole("button", { name: "Undo" })).toBeVisible();
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(page.getByTestId("column-green")).toContainText("blue-2");

    // The agent reached the new version: blue-2 answers via /green and never via /blue.
    await expect
      .poll(async () => (await sample(url("/green"), 4)).includes("blue-2"), { timeout: 10_000 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    const stats = await traffic.stop();
    expect(stats.errors, "requests failed during the move").toEqual([]);
    expect(stats.ok).toBeGreaterThan(20);
  }
  const blue = await sample(url("/blue"), 12);
  expect(new Set(blue)).toEqual(new Set(["blue-1"]));
  expect(new Set(await sample(url("/green"), 12))).toEqual(new Set(["green-1", "blue-2"]));
  await page.close();
});

test("keyboard drag moves a backend back, and Undo reverts it", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const handle = page.getByRole("button", { name: "Move blue-2" });
  await expect(page.getByTestId("column-green")).toContainText("blue-2");
  await handle.focus();
  // Each step waits for the screen-reader announcement: the sensor listens for
  // arrows only once the pick-up has been handled.
  await page.keyboard.press("Space");
  // (the pick-up announcement is soon replaced by "Over pool green.")
  await expect(
    page.getByRole("status").filter({ hasText: /Picked up blue-2|Over pool green\./ }),
  ).toBeAttached();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByRole("status").filter({ hasText: "Over pool blue." })).toBeAttached();
  await page.keyboard.press("Space");
  await expect(page.getByTestId("change-summary")).toContainText("blue-2 drains from green");
  await expect(page.getByTestId("change-summary")).toContainText("joins blue");
  const dialog = await confirmInDialog(page, "Move");
  await expect
    .poll(async () => (await sample(url("/blue"), 4)).includes("blue-2"), { timeout: 10_000 })
    .toBe(true);
  expect(new Set(await sample(url("/green"), 8))).toEqual(new Set(["green-1"]));

  await dialog.getByRole("button", { name: "Undo" }).click();
  await expect(dialog.getByTestId("rollout-lb-board")).toContainText("ACK", { timeout: 20_000 });
  await expect
    .poll(async () => (await sample(url("/green"), 4)).includes("blue-2"), { timeout: 10_000 })
    .toBe(true);
  expect(new Set(await sample(url("/blue"), 8))).toEqual(new Set(["blue-1"]));
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("column-green")).toContainText("blue-2");
  await page.close();
});

test("bulk drain: the drained backend gets no new requests; rollback from history restores routing", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  await page.getByRole("checkbox", { name: "Select green-1" }).check();
  const toolbar = page.getByRole("toolbar", { name: "Selected backends" });
  await expect(toolbar).toContainText("1 backend selected");
  await toolbar.getByRole("button", { name: "Drain" }).click();
  await expect(page.getByTestId("change-summary")).toContainText("green-1 will get no new requests");
  const dialog = await confirmInDialog(page, "Drain");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("card-green-1")).toContainText("draining");
  await expect
    .poll(async () => new Set(await sample(url("/green"), 10)).has("green-1"), { timeout: 10_000 })
    .toBe(false);
  expect(new Set(await sample(url("/green"), 12))).toEqual(new Set(["blue-2"]));

  // Config history: roll back to the version before the drain.
  const versions = await must<{ version: number }[]>(page.request, "query", "config.versions", { clusterId });
  const before = (versions[0]?.version ?? 0) - 1;
  await page.goto(`/config?version=${before}`);
  await page.getByRole("button", { name: `Roll back to v${before}` }).click();
  await expect(page.getByTestId("change-summary")).toContainText(`restored as they were in v${before}`);
  await confirmInDialog(page, `Roll back to v${before}`);
  await expect
    .poll(async () => new Set(await sample(url("/green"), 8)).has("green-1"), { timeout: 15_000 })
    .toBe(true);
  await page.goto("/pools");
  await expect(page.getByTestId("card-green-1")).toContainText("enabled");
  await page.close();
});

test("a viewer cannot drag or submit, and the server refuses the move", async ({ browser }) => {
  const admin = await adminPage(browser);
  await must(admin.request, "mutation", "user.create", {
    name: "Bo Board Viewer",
    email: "bo@example.com",
    password: "viewer password!",
    role: "viewer",
  });
  await admin.close();
  const page = await browser.newPage();
  await useCluster(page, clusterId);
  await signIn(page, "bo@example.com", "viewer password!");
  await page.goto("/pools");
  await expect(page.getByTestId("column-green")).toContainText("blue-2");
  await expect(page.getByRole("button", { name: /^Move / })).toHaveCount(0);
  await expect(page.getByRole("checkbox")).toHaveCount(0);
  await expect(page.getByRole("toolbar", { name: "Selected backends" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "New pool" })).toHaveCount(0);

  const refused = await call(page.request, "mutation", "backend.move", {
    moves: [{ id: ids["blue-2"], poolId: ids.blue }],
  });
  expect(refused.status).toBe(403);
  expect(refused.code).toBe("FORBIDDEN");
  await page.close();
});

test("an API token with viewer scope reads but cannot mutate", async ({ browser }) => {
  const admin = await adminPage(browser);
  const token = await must<{ secret: string }>(admin.request, "mutation", "token.create", {
    name: "e2e read-only",
    role: "viewer",
  });
  await admin.close();
  const ctx = await browser.newContext();
  const auth = { token: token.secret };
  const read = await call(ctx.request, "query", "pool.list", { clusterId }, auth);
  expect(read.status).toBe(200);
  expect((read.data as { name: string }[]).map((p) => p.name)).toEqual(["blue", "green"]);
  for (const [path, input] of [
    ["backend.move", { moves: [{ id: ids["blue-2"], poolId: ids.blue }] }],
    ["backend.bulkSetState", { ids: [ids["blue-1"]], state: "disabled" }],
    ["pool.create", { clusterId, name: "sneaky" }],
  ] as const) {
    const r = await call(ctx.request, "mutation", path, input, auth);
    expect(r.status, path).toBe(403);
    expect(r.code, path).toBe("FORBIDDEN");
  }
  const bogus = await call(ctx.request, "query", "pool.list", { clusterId }, { token: "fk_not_a_token" });
  expect(bogus.status).toBe(401);
  await ctx.close();
  // Nothing moved.
  expect(new Set(await sample(url("/blue"), 6))).toEqual(new Set(["blue-1"]));
});

test("dragging several selected cards moves them together, without a failed request; Undo moves them back", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const green = page.getByTestId("column-green");
  await expect(green).toContainText("green-1");
  await expect(green).toContainText("blue-2");
  // A click, then a shift-click: the range between them (both of green's cards).
  await page.getByRole("checkbox", { name: "Select green-1" }).click();
  await page.getByRole("checkbox", { name: "Select blue-2" }).click({ modifiers: ["Shift"] });
  await expect(page.getByTestId("selection-count")).toHaveText("2 backends selected");
  await expect(page.getByRole("checkbox", { name: "Select blue-1" })).not.toBeChecked();

  // /green empties with the move, so the zero-failure traffic goes to the pool that stays up.
  const traffic = runTraffic([url("/blue")]);
  let dialog: Locator;
  try {
    await dragWithMouse(
      page,
      page.getByRole("button", { name: "Move green-1" }),
      page.getByTestId("column-blue"),
    );
    await expect(page.getByRole("dialog", { name: "Move 2 backends to blue?" })).toBeVisible();
    const summary = page.getByTestId("change-summary");
    await expect(summary).toContainText(/green-1, blue-2|blue-2, green-1/);
    await expect(summary).toContainText("drain from green: in-flight requests finish; join blue");
    const effect = page.getByTestId("change-effect");
    for (const name of ["green-1", "blue-2"]) {
      await expect(effect.getByRole("row").filter({ hasText: name }).first()).toBeVisible();
    }
    dialog = await confirmInDialog(page, "Move");
    await expectServedBy(url("/blue"), ["blue-1", "green-1", "blue-2"]);
  } finally {
    const stats = await traffic.stop();
    expect(stats.errors, "requests failed during the move").toEqual([]);
    expect(stats.ok).toBeGreaterThan(20);
  }
  const left = await sample(url("/green"), 8);
  expect(left.filter((b) => b === "green-1" || b === "blue-2")).toEqual([]);
  await expect(page.getByTestId("column-blue")).toContainText("green-1");
  await expect(page.getByTestId("column-blue")).toContainText("blue-2");

  await undoInDialog(dialog);
  await expectServedBy(url("/green"), ["green-1", "blue-2"]);
  await expectServedBy(url("/blue"), ["blue-1"]);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("column-green")).toContainText("green-1");
  await expect(page.getByTestId("column-green")).toContainText("blue-2");
  await page.close();
});

test("bulk set weight: the dry run shows the share change, and a weight-0 backend gets no requests", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  // Round robin ignores weights; the weighted one makes them count.
  await must(page.request, "mutation", "pool.update", { id: ids.green, policy: "weighted_round_robin" });
  await page.goto("/pools");
  await expect(page.getByTestId("column-green")).toContainText("Weighted round robin");
  await page.getByRole("checkbox", { name: "Select blue-2" }).check();
  const toolbar = page.getByRole("toolbar", { name: "Selected backends" });
  await toolbar.getByLabel("Weight").fill("0");
  await toolbar.getByRole("button", { name: "Set weight" }).click();
  await expect(page.getByRole("dialog", { name: "Set the weight of blue-2 to 0?" })).toBeVisible();
  const effect = page.getByTestId("change-effect");
  await expect(effect.getByRole("row").filter({ hasText: "blue-2" })).toContainText("50% → 0%");
  await expect(effect.getByRole("row").filter({ hasText: "green-1" })).toContainText("50% → 100%");
  const dialog = await confirmInDialog(page, "Set weight");
  await expect(page.getByTestId("card-blue-2")).toContainText("weight 0");

  await expectServedBy(url("/green"), ["green-1"]);
  const bodies = await sample(url("/green"), 20);
  expect(
    bodies.filter((b) => b === "blue-2"),
    "a weight-0 backend got requests",
  ).toEqual([]);

  await undoInDialog(dialog);
  await expectServedBy(url("/green"), ["green-1", "blue-2"]);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("card-blue-2")).toContainText("weight 100");
  await must(page.request, "mutation", "pool.update", { id: ids.green, policy: "round_robin" });
  await page.close();
});

test("topology: listener → route → pool → backend, and a pool node opens the pool", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/topology");
  const node = (id: string) => page.getByTestId(`topo-${id}`);
  const edge = (from: string, to: string) => page.locator(`svg path[data-edge="${from}>${to}"]`);
  await expect(node(`listener-${ids.web}`)).toContainText("web");
  await expect(node(`listener-${ids.web}`)).toContainText(`127.0.0.1:${listenerPort}`);
  const layout: Record<string, string[]> = { blue: ["blue-1"], green: ["green-1", "blue-2"] };
  for (const [pool, members] of Object.entries(layout)) {
    const route = `route-${ids[`route-${pool}`]}`;
    await expect(node(route)).toContainText(`/${pool}`);
    await expect(node(route)).toContainText(`web → ${pool}`);
    await expect(node(`pool-${ids[pool]}`)).toContainText(pool);
    await expect(edge(`listener-${ids.web}`, route)).toHaveCount(1);
    await expect(edge(route, `pool-${ids[pool]}`)).toHaveCount(1);
    for (const b of members) {
      await expect(node(`backend-${ids[b]}`)).toContainText(b);
      await expect(edge(`pool-${ids[pool]}`, `backend-${ids[b]}`)).toHaveCount(1);
    }
  }
  // blue-2 sits in green now, so there is no blue → blue-2 line.
  await expect(edge(`pool-${ids.blue}`, `backend-${ids["blue-2"]}`)).toHaveCount(0);

  await node(`pool-${ids.green}`).click();
  await expect(page).toHaveURL(new RegExp(`/pools/${ids.green}$`));
  await expect(page.getByRole("heading", { level: 1, name: "green" })).toBeVisible();
  await page.close();
});

test("deleting a pool from its card keeps the dialog: the rollout shows every agent's ACK", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await must(page.request, "mutation", "pool.create", { clusterId, name: "scratch", policy: "round_robin" });
  await page.goto("/pools");
  await page.getByRole("button", { name: "list", exact: true }).click();
  const card = page.getByTestId("pool-scratch");
  await card.getByRole("button", { name: "Delete pool scratch" }).click();
  await expect(page.getByTestId("change-summary")).toContainText("are removed from the configuration");
  const dialog = await confirmInDialog(page, "Delete pool");
  // The card is gone and the dialog with the rollout is still there.
  await expect(card).toHaveCount(0);
  await expect(dialog.getByTestId("rollout")).toContainText("1 of 1 agents applied it.");
  await expect(dialog.getByTestId("rollout-lb-board")).toContainText("ACK");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("change-dialog")).toHaveCount(0);
  await expect(page.getByTestId("pool-blue")).toBeVisible();
  await page.close();
});

test("Add backend on a board column: the form's dry run adds it to that pool, and it serves there", async ({
  browser,
}) => {
  const extra = await startNamedBackend("green-2");
  backends.push(extra);
  const page = await adminPage(browser);
  await page.goto("/pools");
  await page.getByRole("button", { name: "Add backend to pool green" }).click();
  const form = page.getByTestId("board-add-backend");
  await expect(form).toContainText("Add a backend to green");
  await form.getByLabel("Backend name").fill("green-2");
  await form.getByLabel("Address").fill("127.0.0.1");
  await form.getByLabel("Port").fill(String(extra.port));
  await form.getByRole("button", { name: "Save backend" }).click();
  await expect(page.getByRole("dialog", { name: "Create backend?" })).toBeVisible();
  const dialog = await confirmInDialog(page, "Create backend");
  await dialog.getByRole("button", { name: "Done" }).click();
  // The form closes once the change is applied; the card is in its column.
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId("column-green")).toContainText("green-2");
  await expect
    .poll(async () => (await sample(url("/green"), 6)).includes("green-2"), { timeout: 10_000 })
    .toBe(true);
  expect(await sample(url("/blue"), 6)).not.toContain("green-2");

  // Leave the cluster as the screenshots expect it.
  const board = await must<{ backends: { id: string; name: string }[] }[]>(
    page.request,
    "query",
    "pool.board",
    {
      clusterId,
    },
  );
  const added = board.flatMap((p) => p.backends).find((b) => b.name === "green-2");
  await must(page.request, "mutation", "backend.delete", { id: added?.id });
  await page.close();
});

function shot(name: string): string {
  return path.resolve(import.meta.dirname, "../artifacts/screenshots", `${name}.png`);
}
