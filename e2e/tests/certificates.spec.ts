import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { expect, type Page, test } from "@playwright/test";
import { must } from "./console-api";
import { clusterWithPool, enrollAgent, freePort, signInAdmin, startNamedBackend } from "./helpers";
import { makeCertificate } from "./pki";

/*
 * Issue 16 in the browser: an admin uploads a certificate on the Certificates page, puts it on
 * a listener through the listener form's TLS section, and a real agent serves it (a node:tls
 * client checks the fingerprint). A key that is not the certificate's is refused under its field.
 */

const HOST = "e2e-https.test";
let clusterId = "";
let poolId = "";

/** The sha256 of the leaf served on `port` for `servername`, trusting `ca` (the self-signed leaf). */
function servedFingerprint(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername, ca }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(cert.fingerprint256.replace(/:/g, "").toLowerCase());
    });
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
  });
}

async function openCertificates(page: Page): Promise<void> {
  await signInAdmin(page, clusterId);
  await page.goto("/certificates");
  await page.getByRole("button", { name: "Upload certificate" }).click();
}

async function fillUpload(page: Page, name: string, chainPem: string, keyPem: string): Promise<void> {
  const form = page.getByRole("form", { name: "Upload a certificate" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByRole("textbox", { name: "Certificate chain (PEM)" }).fill(chainPem);
  await form.getByRole("textbox", { name: "Private key (PEM)" }).fill(keyPem);
  await form.getByRole("button", { name: "Upload certificate" }).click();
}

test.beforeAll(async ({ browser }) => {
  ({ clusterId, poolId } = await clusterWithPool(browser, "certificates", "web"));
});

test("a key that is not the certificate's is refused under the key field", async ({ page }) => {
  const cert = makeCertificate(HOST);
  const other = makeCertificate(HOST);
  await openCertificates(page);
  await fillUpload(page, "mismatched", cert.certPem, other.keyPem);
  const key = page.getByRole("textbox", { name: "Private key (PEM)" });
  await expect(key).toHaveAttribute("aria-invalid", "true");
  await expect(
    page.getByRole("alert").filter({ hasText: "This key does not belong to the certificate" }),
  ).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Certificate chain (PEM)" })).not.toHaveAttribute(
    "aria-invalid",
    "true",
  );
  const list = await must<Array<{ name: string }>>(page.request, "query", "certificate.list", { clusterId });
  expect(list.map((c) => c.name)).not.toContain("mismatched");
});

test("a PKCS#12 file is refused with a wrong password under that field, then uploaded with the right one", async ({
  page,
}) => {
  const cert = makeCertificate(HOST);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-p12-"));
  try {
    const file = path.join(dir, "site.p12");
    writeFileSync(path.join(dir, "cert.pem"), cert.certPem);
    writeFileSync(path.join(dir, "key.pem"), cert.keyPem);
    execFileSync("openssl", [
      ...["pkcs12", "-export", "-in", path.join(dir, "cert.pem"), "-inkey", path.join(dir, "key.pem")],
      ...["-out", file, "-passout", "pass:open sesame"],
    ]);
    const name = `p12-${cert.fingerprint.slice(0, 8)}`;
    await openCertificates(page);
    const form = page.getByRole("form", { name: "Upload a certificate" });
    await form.getByLabel("PKCS#12 file (.p12/.pfx)").check();
    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByLabel("PKCS#12 file (.p12, .pfx)").setInputFiles(file);
    await form.getByLabel("File password").fill("wrong");
    await form.getByRole("button", { name: "Upload certificate" }).click();
    await expect(form.getByLabel("File password")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByRole("alert").filter({ hasText: /wrong password/i })).toBeVisible();
    await form.getByLabel("File password").fill("open sesame");
    await form.getByRole("button", { name: "Upload certificate" }).click();
    await expect(page.getByText(cert.fingerprint.slice(0, 8)).first()).toBeVisible();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a certificate uploaded in the browser and chosen in the listener form is served by the agent", async ({
  page,
}) => {
  const cert = makeCertificate(HOST);
  const name = `e2e-${cert.fingerprint.slice(0, 8)}`;
  const backend = await startNamedBackend("tls-backend");
  const port = await freePort();
  const listenerName = `https-${port}`;
  const r = page.request;
  await signInAdmin(page, clusterId);
  await must(r, "mutation", "backend.create", { poolId, address: "127.0.0.1", port: backend.port });
  const listener = await must<{ id: string }>(r, "mutation", "listener.create", {
    clusterId,
    name: listenerName,
    bindAddress: "127.0.0.1",
    port,
  });
  await must(r, "mutation", "route.create", { listenerId: listener.id, poolId });
  const agent = await enrollAgent(page, test.info().project.use.baseURL ?? "", clusterId, name);
  try {
    await page.goto("/certificates");
    await page.getByRole("button", { name: "Upload certificate" }).click();
    await fillUpload(page, name, cert.certPem, cert.keyPem);
    await expect(page.getByText(cert.fingerprint.slice(0, 8)).first()).toBeVisible();

    await page.goto("/listeners");
    const card = page.getByTestId(`listener-${listenerName}`);
    // A plain listener's graphs have no TLS charts.
    await card.getByRole("button", { name: `Graphs of listener ${listenerName}` }).click();
    await expect(card.getByRole("img", { name: "Requests per second" })).toBeVisible();
    await expect(card.getByRole("img", { name: "TLS handshakes per second" })).toHaveCount(0);
    await card.getByRole("button", { name: `Edit listener ${listenerName}` }).click();
    const tlsSection = card.getByRole("group", { name: "TLS" });
    await tlsSection.getByLabel("Terminate TLS (HTTPS)").check();
    await tlsSection.getByLabel(name, { exact: true }).check();
    await card.getByRole("button", { name: "Save listener" }).first().click();
    // The change goes through the dry run: Apply, then Done.
    await page.getByTestId("change-apply").click();
    await page.getByTestId("change-dialog").getByRole("button", { name: "Done" }).click();

    // The agent applies the new version and serves the uploaded certificate on new handshakes.
    await expect
      .poll(() => servedFingerprint(port, HOST, cert.certPem).catch((e: Error) => e.message), {
        timeout: 30_000,
      })
      .toBe(cert.fingerprint);

    // Now a TLS listener: its graphs add the handshake charts, fed by the agent's counters
    // (each poll makes one more handshake; the chart's latest second shows it a second later).
    for (const title of ["TLS handshakes per second", "Resumed handshakes", "Failed handshakes per second"]) {
      await expect(card.getByRole("img", { name: title })).toBeVisible();
    }
    await expect
      .poll(
        async () => {
          await servedFingerprint(port, HOST, cert.certPem).catch(() => "");
          return Number.parseFloat((await card.getByTestId("tls-handshakes-now").textContent()) ?? "") || 0;
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);

    // The Certificates page says which listener uses the certificate.
    await page.goto("/certificates");
    await expect(page.getByRole("row").filter({ hasText: name })).toContainText(listenerName);
  } catch (err) {
    console.log(agent.output());
    throw err;
  } finally {
    await agent.stop();
    await backend.close();
  }
});

/** One request to 127.0.0.1:`port` with its own Host header; the status and Location, redirects not followed. */
function plainRequest(
  port: number,
  host: string,
  target: string,
): Promise<{ status: number; location: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: target, headers: { host }, agent: false },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? "" });
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.end();
  });
}

test("the listener form turns on the redirect to HTTPS, and the agent's plain listener answers 301 keeping host, path and query", async ({
  page,
}) => {
  const backend = await startNamedBackend("plain-backend");
  const port = await freePort();
  const listenerName = `plain-${port}`;
  const r = page.request;
  await signInAdmin(page, clusterId);
  await must(r, "mutation", "backend.create", { poolId, address: "127.0.0.1", port: backend.port });
  const listener = await must<{ id: string }>(r, "mutation", "listener.create", {
    clusterId,
    name: listenerName,
    bindAddress: "127.0.0.1",
    port,
  });
  await must(r, "mutation", "route.create", { listenerId: listener.id, poolId });
  const agent = await enrollAgent(page, test.info().project.use.baseURL ?? "", clusterId, `redirect-${port}`);
  const host = `shop.e2e-https.test:${port}`;
  const target = "/cart/items?id=42&q=a%20b";
  try {
    // Before: the plain listener proxies.
    await expect
      .poll(
        () =>
          plainRequest(port, host, target).then(
            (x) => x.status,
            () => 0,
          ),
        { timeout: 30_000 },
      )
      .toBe(200);

    await page.goto("/listeners");
    const card = page.getByTestId(`listener-${listenerName}`);
    await card.getByRole("button", { name: `Edit listener ${listenerName}` }).click();
    const tlsSection = card.getByRole("group", { name: "TLS" });
    // An empty port is refused under its field, and nothing is saved.
    await tlsSection.getByLabel("Redirect every request to HTTPS").check();
    await tlsSection.getByLabel("HTTPS port").fill("");
    await card.getByRole("button", { name: "Save listener" }).first().click();
    await expect(tlsSection.getByLabel("HTTPS port")).toHaveAttribute("aria-invalid", "true");
    await expect(tlsSection.getByRole("alert").filter({ hasText: "Enter the HTTPS port." })).toBeVisible();

    await tlsSection.getByLabel("Redirect status").selectOption("301");
    await tlsSection.getByLabel("HTTPS port").fill("8443");
    await card.getByRole("button", { name: "Save listener" }).first().click();
    // The dry run shows the setting in its diff before anything is applied.
    const dialog = page.getByTestId("change-dialog");
    await expect(dialog).toContainText("redirectToHttps");
    await page.getByTestId("change-apply").click();
    await dialog.getByRole("button", { name: "Done" }).click();

    await expect
      .poll(
        () => plainRequest(port, host, target).catch((e: Error) => ({ status: 0, location: e.message })),
        {
          timeout: 30_000,
        },
      )
      .toEqual({ status: 301, location: `https://shop.e2e-https.test:8443${target}` });

    // The form shows the stored redirect when opened again.
    await card.getByRole("button", { name: `Edit listener ${listenerName}` }).click();
    await expect(tlsSection.getByLabel("Redirect every request to HTTPS")).toBeChecked();
    await expect(tlsSection.getByLabel("Redirect status")).toHaveValue("301");
    await expect(tlsSection.getByLabel("HTTPS port")).toHaveValue("8443");
  } catch (err) {
    console.log(agent.output());
    throw err;
  } finally {
    await agent.stop();
    await backend.close();
  }
});
