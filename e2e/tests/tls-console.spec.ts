import { expect, type Page, test } from "@playwright/test";
import { call, must } from "./console-api";
import { clusterWithPool, enrollAgent, signInAdmin } from "./helpers";
import { makeCa, makeCertificate } from "./pki";

/*
 * Issue 16's console parts that have no agent-side check of their own in the browser: Trusted CAs
 * (upload, a refused upload, delete, refused while a pool uses one), a pool's "TLS to backends"
 * section (verify against an uploaded CA, a fixed SNI name, a client certificate) through the dry
 * run, and the session-ticket key panel (generation and rotation times, never a key). Cluster
 * "tls-console" of its own, after the walking skeleton created the admin.
 */

let clusterId = "";
let poolId = "";
const POOL = "secure";

type Bundle = { id: string; name: string };
type PoolRow = { id: string; name: string; tls: Record<string, unknown> | null };

test.beforeAll(async ({ browser }) => {
  ({ clusterId, poolId } = await clusterWithPool(browser, "tls-console", POOL));
});

/** The Pools page in its list view, where each pool card has its Edit button. */
async function openPoolList(page: Page): Promise<void> {
  await page.goto("/pools");
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "List" }).click();
}

test("Trusted CAs: a key is refused under the PEM field; a CA bundle is uploaded, listed and deleted", async ({
  page,
}) => {
  const ca = makeCa("E2E Upload CA");
  const name = `ca-${ca.fingerprint.slice(0, 8)}`;
  await signInAdmin(page, clusterId);
  await page.goto("/certificates");
  const section = page.getByRole("region", { name: "Trusted CAs" });
  await section.getByRole("button", { name: "Upload CA bundle" }).click();
  const form = section.getByRole("form", { name: "Upload a CA bundle" });
  const pem = form.getByRole("textbox", { name: "CA certificates (PEM)" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  await pem.fill(ca.keyPem);
  await form.getByRole("button", { name: "Upload CA bundle" }).click();
  await expect(pem).toHaveAttribute("aria-invalid", "true");
  const bundles = () => must<Bundle[]>(page.request, "query", "certificate.caList", { clusterId });
  expect((await bundles()).map((b) => b.name)).not.toContain(name);

  await pem.fill(ca.certPem);
  await form.getByRole("button", { name: "Upload CA bundle" }).click();
  const row = section.getByTestId(`ca-bundle-${name}`);
  await expect(row).toContainText("E2E Upload CA");
  await expect(row).toContainText("unused");
  await expect(form).toHaveCount(0);

  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  await expect(row).toHaveCount(0);
  expect((await bundles()).map((b) => b.name)).not.toContain(name);
});

test("the pool form's TLS to backends: verify against an uploaded CA, a fixed SNI name, a client certificate", async ({
  page,
}) => {
  const ca = makeCa("E2E Backend CA");
  const client = makeCertificate("client.e2e.test");
  const caName = `backend-ca-${ca.fingerprint.slice(0, 8)}`;
  const clientName = `client-${client.fingerprint.slice(0, 8)}`;
  await signInAdmin(page, clusterId);
  const r = page.request;
  const bundle = await must<Bundle>(r, "mutation", "certificate.caUpload", {
    clusterId,
    name: caName,
    pem: ca.certPem,
  });
  const cert = await must<{ id: string }>(r, "mutation", "certificate.upload", {
    clusterId,
    name: clientName,
    chainPem: client.certPem,
    keyPem: client.keyPem,
  });

  await openPoolList(page);
  const card = page.getByTestId(`pool-${POOL}`);
  await card.getByRole("button", { name: `Edit pool ${POOL}` }).click();
  const tlsSection = card.getByRole("group", { name: "TLS to backends" });
  await tlsSection.getByLabel("Connect to the backends over TLS").check();
  await tlsSection.getByLabel("Verify the backend's certificate").selectOption("ca");
  await tlsSection.getByLabel("CA bundle").selectOption({ label: caName });
  await tlsSection.getByLabel("SNI", { exact: true }).selectOption("fixed");
  await tlsSection.getByLabel("SNI name").fill("backend.e2e.internal");
  await tlsSection.getByLabel("Client certificate (mTLS)").selectOption({ label: clientName });
  await card.getByRole("button", { name: "Save pool" }).click();
  // The dry run's diff shows the new TLS settings before anything is applied.
  const dialog = page.getByTestId("change-dialog");
  await expect(dialog).toContainText("backend.e2e.internal");
  await page.getByTestId("change-apply").click();
  await dialog.getByRole("button", { name: "Done" }).click();

  const stored = async () =>
    (await must<PoolRow[]>(r, "query", "pool.list", { clusterId })).find((p) => p.id === poolId)?.tls;
  expect(await stored()).toMatchObject({
    verify: "ca",
    caBundleId: bundle.id,
    sni: "fixed",
    sniName: "backend.e2e.internal",
    clientCertificateId: cert.id,
    minVersion: "TLSv1.2",
  });

  // The form shows what is stored when opened again.
  await card.getByRole("button", { name: `Edit pool ${POOL}` }).click();
  await expect(tlsSection.getByLabel("Connect to the backends over TLS")).toBeChecked();
  await expect(tlsSection.getByLabel("Verify the backend's certificate")).toHaveValue("ca");
  await expect(tlsSection.getByLabel("CA bundle")).toHaveValue(bundle.id);
  await expect(tlsSection.getByLabel("SNI name")).toHaveValue("backend.e2e.internal");
  await expect(tlsSection.getByLabel("Client certificate (mTLS)")).toHaveValue(cert.id);

  // Trusted CAs names the pool, and a bundle in use cannot be deleted.
  await page.goto("/certificates");
  const row = page.getByTestId(`ca-bundle-${caName}`);
  await expect(row).toContainText(`pool ${POOL}`);
  await row.getByRole("button", { name: `Delete ${caName}` }).click();
  const confirm = page.getByRole("dialog");
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(confirm.getByRole("alert")).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toBeVisible();

  // TLS off again: the bundle is unused and goes.
  await openPoolList(page);
  await card.getByRole("button", { name: `Edit pool ${POOL}` }).click();
  await tlsSection.getByLabel("Connect to the backends over TLS").uncheck();
  await card.getByRole("button", { name: "Save pool" }).click();
  await page.getByTestId("change-apply").click();
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect.poll(stored).toBeNull();
  const del = await call(r, "mutation", "certificate.caDelete", { id: bundle.id });
  expect(del.status).toBe(200);
});

test("the session-ticket key panel shows the generation and rotation times, and no key", async ({ page }) => {
  await signInAdmin(page, clusterId);
  // The ring is made when the cluster's first agent connects.
  const agent = await enrollAgent(page, test.info().project.use.baseURL ?? "", clusterId, "tls-console-1");
  try {
    // The panel reads the ring once a minute: open the page once the agent's hello has made it.
    await expect
      .poll(
        async () =>
          (await must<{ ring: unknown }>(page.request, "query", "certificate.ticketKeys", { clusterId }))
            .ring,
        { timeout: 60_000 },
      )
      .not.toBeNull();
    await page.goto("/certificates");
    const panel = page.getByRole("region", { name: "Session-ticket keys" });
    const state = panel.getByTestId("ticket-keys-state");
    await expect(state).toBeVisible();
    await expect(panel).toContainText(/rotate every \d+ (h|min)/);
    await expect(state).toContainText(/Generation\s*\d+/);
    await expect(state).toContainText(/Last rotation\s*(just now|\d+ (s|min|h|d) ago)/);
    await expect(state).toContainText(/Next rotation\s*in \d+ (s|min|h|d)/);

    // Neither the API nor the page carries key material: only when, never what.
    const answer = await must<Record<string, unknown>>(page.request, "query", "certificate.ticketKeys", {
      clusterId,
    });
    expect(Object.keys(answer).sort()).toEqual(["ring", "rotationIntervalMs"]);
    expect(Object.keys(answer.ring as object).sort()).toEqual(["generation", "nextRotationAt", "rotatedAt"]);
    expect(await panel.innerHTML()).not.toMatch(/[A-Za-z0-9+/]{32,}/);
  } catch (err) {
    console.log(agent.output());
    throw err;
  } finally {
    await agent.stop();
  }
});
