import { type Browser, expect, type Page, test } from "@playwright/test";
import { ADMIN, must, signIn, useCluster } from "./console-api";

/**
 * The pools board with a pool of 2,000 backends (cluster "big", no agent):
 * the DOM holds a bounded number of cards, scrolling the column reaches the
 * last backend, that card can still be dragged to another pool, and keyboard
 * focus moving down the column brings each focused card into view.
 */
test.describe.configure({ mode: "serial" });

const COUNT = 2000;
const MAX_CARDS = 300;
let clusterId = "";
const pools: Record<string, string> = {};
/** Names and addresses sort alike, so the board's order is b-0000 … b-1999. */
const nameOf = (i: number) => `b-${String(i).padStart(4, "0")}`;
const LAST = nameOf(COUNT - 1);

async function adminPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await useCluster(page, clusterId);
  await signIn(page, ADMIN.email, ADMIN.password);
  return page;
}

const cards = (page: Page) => page.locator('[data-testid^="card-"]');

test.beforeAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  const r = page.request;
  clusterId = (await must<{ id: string }>(r, "mutation", "cluster.create", { name: "big" })).id;
  for (const name of ["big", "small"]) {
    pools[name] = (await must<{ id: string }>(r, "mutation", "pool.create", { clusterId, name })).id;
  }
  for (let from = 0; from < COUNT; from += 1000) {
    const backends = Array.from({ length: 1000 }, (_, k) => ({
      name: nameOf(from + k),
      address: `${nameOf(from + k)}.example`,
      port: 8080,
    }));
    await must(r, "mutation", "backend.createMany", { poolId: pools.big, backends });
  }
  await page.close();
});

test("2,000 backends: a bounded DOM, scrolling reaches the last one, and it can still be dragged", async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  const big = page.getByTestId("column-big");
  await expect(big).toContainText(`of ${COUNT} backends enabled`);
  await expect(page.getByTestId("card-b-0000")).toBeVisible();
  expect(await cards(page).count()).toBeLessThan(MAX_CARDS);

  // Scroll the column to its end (the virtualizer measures as it goes, so repeat until it stays there).
  const list = page.getByTestId("cards-big");
  const last = page.getByTestId(`card-${LAST}`);
  await expect
    .poll(
      async () => {
        await list.evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        return last.isVisible();
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  await expect(last).toBeInViewport();
  expect(await cards(page).count()).toBeLessThan(MAX_CARDS);
  await expect(page.getByTestId("card-b-0000")).toHaveCount(0);

  // A real pointer drag of the last card onto the other pool.
  const handle = page.getByRole("button", { name: `Move ${LAST}`, exact: true });
  const target = page.getByTestId("column-small");
  const from = await handle.boundingBox();
  const to = await target.boundingBox();
  if (!from || !to) throw new Error("board not laid out");
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + 10, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 15 });
  await page.mouse.up();

  const dialog = page.getByTestId("change-dialog");
  await expect(page.getByRole("dialog", { name: `Move ${LAST} to small?` })).toBeVisible();
  await expect(page.getByTestId("change-summary")).toContainText(`${LAST} drains from big`);
  await dialog.getByRole("button", { name: "Move", exact: true }).click();
  await expect(dialog.getByRole("button", { name: "Done" })).toBeVisible({ timeout: 20_000 });
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(target).toContainText(LAST);
  await expect(big).toContainText(`of ${COUNT - 1} backends enabled`);
  const board = await must<{ name: string; backends: { name: string }[] }[]>(
    page.request,
    "query",
    "pool.board",
    {
      clusterId,
    },
  );
  expect(board.find((p) => p.name === "small")?.backends.map((b) => b.name)).toEqual([LAST]);
  await page.close();
});

test("keyboard focus moving down a long column scrolls each focused card into view", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/pools");
  await page.getByRole("checkbox", { name: "Select b-0000", exact: true }).focus();
  // Three stops a card (checkbox, drag handle, history): 90 tabs go about 30 cards down, past the first screen.
  for (let i = 0; i < 90; i++) {
    await page.keyboard.press("Tab");
    if (i % 15 === 14) await expect(page.locator(":focus")).toBeInViewport();
  }
  const focused = page.locator(":focus");
  await expect(focused).toBeInViewport();
  const label = (await focused.getAttribute("aria-label")) ?? (await focused.getAttribute("title")) ?? "";
  const index = Number(/b-(\d{4})/.exec(label)?.[1] ?? -1);
  expect(index, `focus ended on "${label}"`).toBeGreaterThanOrEqual(25);
  expect(await cards(page).count()).toBeLessThan(MAX_CARDS);

  // The card the keyboard picks up stays mounted while the column scrolls away from it.
  const handle = page.getByRole("button", { name: `Move ${nameOf(index)}`, exact: true });
  await handle.focus();
  await page.getByTestId("cards-big").evaluate((el) => {
    el.scrollTop = 0;
  });
  await expect(handle).toBeAttached();
  await expect(handle).toBeFocused();
  await page.close();
});

test("the pool page pages through the backends 25 at a time", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto(`/pools/${pools.big}`);
  await expect(page.getByRole("heading", { level: 1, name: "big" })).toBeVisible();
  await expect(page.getByTestId("backend-page")).toHaveText(`1–25 of ${(COUNT - 1).toLocaleString("en")}`);
  await expect(page.getByTestId("health-timeline-b-0000")).toBeVisible();
  await expect(page.getByTestId("health-timeline-b-0025")).toHaveCount(0);
  const pager = page.getByRole("navigation", { name: "Backend pages" });
  await pager.getByRole("button", { name: "Next →" }).click();
  await expect(page.getByTestId("backend-page")).toHaveText(`26–50 of ${(COUNT - 1).toLocaleString("en")}`);
  await expect(page.getByTestId("health-timeline-b-0025")).toBeVisible();
  await expect(page.getByTestId("health-timeline-b-0000")).toHaveCount(0);
  await pager.getByRole("button", { name: "← Previous" }).click();
  await expect(page.getByTestId("backend-page")).toHaveText(`1–25 of ${(COUNT - 1).toLocaleString("en")}`);
  expect(await page.locator('[data-testid^="health-timeline-b-"]').count()).toBe(25);
  await page.close();
});
