import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import type { AgentProcess } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleApi } from "../../../scripts/demo/console-api";
import {
  bindingLine,
  consoleBinding,
  consoleOnlyReady,
  type DemoPorts,
  dataDescription,
  demoReady,
  localUrl,
  seedLine,
} from "../../../scripts/demo/messages";
import { seedDemoTopology } from "../../../scripts/demo/seed";
import { type DemoTls, ensureDemoTls } from "../../../scripts/demo/tls";
import { enrollAgent, freePort, startTestConsole, type TestConsole, waitFor } from "./support/console";

/** The leaf a TLS client verifying against `ca` is served on `port`, as sha256 hex; rejects when it does not verify. */
function verifiedFingerprint(port: number, ca: string, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, ...(servername ? { servername } : {}) }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(cert.fingerprint256.replace(/:/g, "").toLowerCase());
    });
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
  });
}

function httpsStatus(port: number, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: "127.0.0.1", port, path: "/", servername: "localhost", ca, timeout: 5000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
  });
}

/** What `bash scripts/start.sh` (scripts/demo/run.ts) does and says, against a real console. */
describe("the start script's demo setup and output", () => {
  const admin = { email: "demo@fulcrum.local", password: "demo-start-password" };
  let c: TestConsole;
  let tlsDir: string;
  let demoTls: DemoTls;
  let ports: DemoPorts;
  let clusterId: string;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    tlsDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-demo-tls-"));
    demoTls = ensureDemoTls(path.join(tlsDir, "demo-tls"));
    // Free ports instead of 8080/8443, so a demo running on this machine does not matter.
    ports = { http: await freePort(), https: await freePort() };
    c = await startTestConsole({ FULCRUM_ADMIN_EMAIL: admin.email, FULCRUM_ADMIN_PASSWORD: admin.password });
  });
  afterAll(async () => {
    await agent?.stop();
    await c?.stop();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it("binds the demo console to 127.0.0.1 unless HOST is set, and says so", () => {
    const demo = consoleBinding({}, true);
    expect(demo).toEqual({ host: "127.0.0.1", chosen: false });
    expect(localUrl(demo, 3000)).toBe("http://127.0.0.1:3000");
    expect(bindingLine(demo, 3000, true)).toMatch(/127\.0\.0\.1:3000 only.*HOST=0\.0\.0\.0/);

    const open = consoleBinding({ HOST: "0.0.0.0" }, true);
    expect(open).toEqual({ host: "0.0.0.0", chosen: true });
    expect(localUrl(open, 3000)).toBe("http://127.0.0.1:3000");
    expect(bindingLine(open, 3000, true)).toMatch(/every interface.*demo's password/);

    // The console alone keeps the console's own default.
    expect(consoleBinding({}, false)).toEqual({ host: "0.0.0.0", chosen: false });
  });

  it("names the data without printing DATABASE_URL (it may hold a password)", () => {
    expect(dataDescription({ DATABASE_URL: "postgres://u:secret@db/x" }, "/d")).not.toMatch(/secret/);
    expect(dataDescription({}, "/d")).toBe("/d");
  });

  it("says the demo setup it created and its config version, then finds it on the next start", async () => {
    const api = new ConsoleApi(c.url);
    await api.signIn(admin.email, admin.password);
    const first = await seedDemoTopology(api, demoTls, ports);
    clusterId = first.clusterId;
    const versions = await api.query<Array<{ version: number }>>("config.versions", {
      clusterId: first.clusterId,
    });
    expect(first).toMatchObject({ created: true, version: versions[0]!.version });
    const line = seedLine(first, ports);
    expect(line).toMatch(/created the demo setup \(config version \d+\)/);
    expect(line).toContain(`config version ${first.version}`);
    expect(line).toContain(`127.0.0.1:${ports.http}`);
    expect(line).toContain(`demo-web-tls (HTTPS, certificate demo-localhost) on 127.0.0.1:${ports.https}`);

    // The next start finds the same files on disk and the same setup in the console.
    const sameTls = ensureDemoTls(demoTls.dir);
    expect(sameTls.fingerprint).toBe(demoTls.fingerprint);
    const again = await seedDemoTopology(api, sameTls, ports);
    expect(again).toEqual({ clusterId: first.clusterId, created: false, version: first.version });
    expect(seedLine(again, ports)).toMatch(/found the demo setup from an earlier start/);
  });

  it("keeps the demo CA's key to its user: the directory 0700, the keys 0600", () => {
    expect(statSync(demoTls.dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(demoTls.dir, "ca.key")).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(demoTls.dir, "localhost.key")).mode & 0o777).toBe(0o600);
  });

  it("serves demo-web-tls over HTTPS with the demo certificate, verified against the demo CA", async () => {
    ({ agent } = await enrollAgent(c, clusterId, "demo-agent"));
    await waitFor("the agent to serve the demo's HTTPS listener", () =>
      verifiedFingerprint(ports.https, demoTls.caPem, "localhost").catch(() => undefined),
    );
    expect(await verifiedFingerprint(ports.https, demoTls.caPem, "localhost")).toBe(demoTls.fingerprint);
    // By address too (no SNI): the certificate names 127.0.0.1.
    expect(await verifiedFingerprint(ports.https, demoTls.caPem)).toBe(demoTls.fingerprint);
    // HTTP inside: the agent answers (the demo backends are not running here, so not with 200).
    expect(await httpsStatus(ports.https, demoTls.caPem)).toBeGreaterThanOrEqual(200);

    const ready = demoReady({
      url: "http://localhost:3000",
      admin,
      ports,
      caFile: ".fulcrum/demo-tls/ca.pem",
      binding: "b",
      data: "d",
    });
    expect(ready).toContain(`https://localhost:${ports.https}`);
    expect(ready).toContain(`curl --cacert .fulcrum/demo-tls/ca.pem https://localhost:${ports.https}/`);
  });

  it("a demo certificate made again on disk replaces the uploaded one, and the agent serves it", async () => {
    rmSync(path.join(demoTls.dir, "localhost.pem"));
    const renewed = ensureDemoTls(demoTls.dir);
    expect(renewed.caPem).toBe(demoTls.caPem);
    expect(renewed.fingerprint).not.toBe(demoTls.fingerprint);
    const api = new ConsoleApi(c.url);
    await api.signIn(admin.email, admin.password);
    const seed = await seedDemoTopology(api, renewed, ports);
    expect(seed.created).toBe(false);
    await waitFor("the agent to serve the new demo certificate", async () =>
      (await verifiedFingerprint(ports.https, renewed.caPem, "localhost").catch(() => "")) ===
      renewed.fingerprint
        ? true
        : undefined,
    );
  });

  it("console alone: the first page is /setup while no user exists", async () => {
    const fresh = await startTestConsole();
    try {
      const health = (await (await fetch(`${fresh.url}/api/health`)).json()) as { needsSetup: boolean };
      expect(health.needsSetup).toBe(true);
      const text = consoleOnlyReady({
        url: "http://localhost:3000",
        needsSetup: true,
        binding: "b",
        data: "d",
      });
      expect(text).toContain("open http://localhost:3000/setup to create the first admin");
    } finally {
      await fresh.stop();
    }
    const later = consoleOnlyReady({
      url: "http://localhost:3000",
      needsSetup: false,
      binding: "b",
      data: "d",
    });
    expect(later).toContain("open http://localhost:3000 and sign in");
    expect(later).not.toContain("/setup");
  });
});
