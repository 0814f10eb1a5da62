import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import type { AgentProcess } from "@fulcrum/agent/testing";
import * as dnsPacket from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renewalTime } from "../src/server/domain/acme/retry-delay";
import { freePort, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";
import { TestPki } from "./test-pki";

/*
 * ACME for real (issue 16): Debian's Pebble on 127.0.0.1 (its HTTPS made with
 * a test root the console trusts through FULCRUM_ACME_CA_FILE), names resolved
 * to 127.0.0.1 by a small DNS server in this test, HTTP-01 validated against a
 * real agent's plain http listener, the certificate then served over TLS.
 */

/** Answers every A question with 127.0.0.1 and everything else with no records. */
async function startLoopbackDns(): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const answers = (q.questions ?? [])
      .filter((x) => x.type === "A")
      .map((x) => ({ type: "A" as const, name: x.name, ttl: 5, data: "127.0.0.1" }));
    const reply = dnsPacket.encode({
      type: "response",
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions,
      answers,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { port: socket.address().port, socket };
}

function served(port: number, servername: string): Promise<{ fingerprint: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
      const peer = s.getPeerCertificate();
      s.end();
      resolve({
        fingerprint: createHash("sha256").update(peer.raw).digest("hex"),
        issuer: String(peer.issuer.CN),
      });
    });
    s.on("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("handshake timed out")));
  });
}

describe("ACME against Pebble, HTTP-01 answered by a real agent", () => {
  let stack: Stack;
  let agent: AgentProcess;
  let pebble: ChildProcess;
  let pebbleLog = "";
  let dns: Awaited<ReturnType<typeof startLoopbackDns>>;
  let pki: TestPki;
  let dir: string;
  let clusterId: string;
  let httpsPort: number;
  let acmeId: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-pebble-"));
    pki = new TestPki();
    const pebbleTls = pki.issue({ cn: "pebble", dns: ["localhost"], ips: ["127.0.0.1"] });
    writeFileSync(path.join(dir, "cert.pem"), pebbleTls.certPem);
    writeFileSync(path.join(dir, "key.pem"), pebbleTls.keyPem);
    writeFileSync(path.join(dir, "ca.pem"), pki.root.certPem);
    dns = await startLoopbackDns();
    const [acmePort, mgmtPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    httpsPort = await freePort();
    writeFileSync(
      path.join(dir, "pebble.json"),
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${mgmtPort}`,
          certificate: path.join(dir, "cert.pem"),
          privateKey: path.join(dir, "key.pem"),
          httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    pebble = spawn(
      "pebble",
      ["-config", path.join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dns.port}`],
      {
        env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    pebble.stdout?.on("data", (d: Buffer) => {
      pebbleLog += d.toString();
    });
    pebble.stderr?.on("data", (d: Buffer) => {
      pebbleLog += d.toString();
    });
    await waitFor("pebble to listen", () => pebbleLog.includes("Listening on"), 15_000);

    stack = await startStack({
      cluster: "acme",
      backends: ["shop"],
      consoleEnv: {
        FULCRUM_ACME_DIRECTORY_URL: `https://127.0.0.1:${acmePort}/dir`,
        FULCRUM_ACME_EMAIL: "ops@example.com",
        FULCRUM_ACME_CA_FILE: path.join(dir, "ca.pem"),
      },
    });
    ({ clusterId } = stack);
    const op = stack.operator;
    const pool = await op.pool.create({ clusterId, name: "web" });
    await op.backend.create({ poolId: pool.id, address: "127.0.0.1", port: stack.backends[0]!.port });
    const plain = await op.listener.create({
      clusterId,
      name: "http",
      bindAddress: "127.0.0.1",
      port: httpPort,
    });
    await op.route.create({ listenerId: plain.id, poolId: pool.id, host: "shop.test" });
    const secure = await op.listener.create({
      clusterId,
      name: "https",
      bindAddress: "127.0.0.1",
      port: httpsPort,
    });
    await op.route.create({ listenerId: secure.id, poolId: pool.id, host: "shop.test" });
    await op.route.create({ listenerId: secure.id, poolId: pool.id, host: "www.shop.test" });
    ({ agent } = await stack.enroll("acme-1"));
    await waitFor("the agent to run the topology", async () => {
      const agents = await op.agent.list({ clusterId });
      return agents.some((a: { appliedVersion: number | null }) => (a.appliedVersion ?? 0) > 0);
    });
    acmeId = (await op.certificate.acmeCreate({ clusterId, name: "shop", listenerId: secure.id })).id;
  });

  afterAll(async () => {
    await stack?.close();
    pebble?.kill();
    dns?.socket.close();
    pki?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const acmeRow = async (id: string) =>
    (await stack.viewer.certificate.acmeList({ clusterId })).find((r) => r.id === id);

  it("issues for the listener's route hosts, audits it, and the agent serves Pebble's certificate", async () => {
    const row = await waitFor(
      "the ACME certificate to be valid",
      async () => {
        const r = await acmeRow(acmeId);
        if (r?.status === "failed") throw new Error(r.lastError ?? "failed");
        return r?.status === "valid" ? r : undefined;
      },
      40_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\npebble:\n${pebbleLog.slice(-3000)}`);
    });
    expect(row.names).toEqual(["shop.test", "www.shop.test"]);
    const cert = await stack.viewer.certificate.get({ id: row.certificateId! });
    expect(cert.source).toBe("acme");
    expect(cert.issuer).toContain("Pebble");
    const seen = await waitFor("the agent to serve it", () =>
      served(httpsPort, "www.shop.test").catch(() => undefined),
    );
    expect(seen.fingerprint).toBe(cert.fingerprint);
    expect(seen.issuer).toContain("Pebble");
    const audit = await stack.admin.audit.list({ action: "certificate.acme_issue" });
    expect(JSON.stringify(audit)).toContain("certificate.acme_issue");
  });

  it("renews when its renewal time (2/3 of the lifetime) comes, not before: the scheduler's pass takes the clock", async () => {
    const scheduler = stack.console.services.acme!;
    const before = (await acmeRow(acmeId))!;
    const cert = await stack.console.services.prisma.certificate.findUniqueOrThrow({
      where: { id: before.certificateId! },
    });
    const due = renewalTime(cert.notBefore, cert.notAfter);
    expect(new Date(before.nextAttemptAt).getTime()).toBe(due.getTime());
    // A minute before: nothing is due, nothing changes.
    expect(await scheduler.tick(new Date(due.getTime() - 60_000))).toBe(0);
    expect((await acmeRow(acmeId))!.status).toBe("valid");
    // At the renewal time: this pass claims it and renews it in place.
    expect(await scheduler.tick(new Date(due.getTime() + 1000))).toBe(1);
    const after = (await acmeRow(acmeId))!;
    expect(after.status).toBe("valid");
    expect(after.certificateId).toBe(before.certificateId);
    const renewed = await stack.viewer.certificate.get({ id: before.certificateId! });
    expect(renewed.fingerprint).not.toBe(cert.fingerprint);
    // The next renewal is at 2/3 of the new certificate's lifetime.
    const next = renewalTime(new Date(renewed.notBefore), new Date(renewed.notAfter));
    expect(new Date(after.nextAttemptAt).getTime()).toBe(next.getTime());
    await waitFor("the agent to serve the renewed one", async () =>
      (await served(httpsPort, "shop.test")).fingerprint === renewed.fingerprint ? true : undefined,
    );
  });

  it("renews (forced early): a new fingerprint under the same certificate id, served on new handshakes", async () => {
    const before = (await acmeRow(acmeId))!;
    const oldCert = await stack.viewer.certificate.get({ id: before.certificateId! });
    await stack.operator.certificate.acmeRenewNow({ id: acmeId });
    const renewed = await waitFor(
      "the renewed certificate",
      async () => {
        const cert = await stack.viewer.certificate.get({ id: before.certificateId! });
        const r = await acmeRow(acmeId);
        return cert.fingerprint !== oldCert.fingerprint && r?.status === "valid" ? cert : undefined;
      },
      40_000,
    );
    await waitFor("the agent to serve the renewed one", async () =>
      (await served(httpsPort, "shop.test")).fingerprint === renewed.fingerprint ? true : undefined,
    );
  });

  it("a failed challenge (no agent serving the token) is reported with a clear last error, nothing else changed", async () => {
    await agent.stop();
    const op = stack.operator;
    const certsBefore = await op.certificate.list({ clusterId });
    const failing = await op.certificate.acmeCreate({
      clusterId,
      name: "unserved",
      names: ["unserved.test"],
    });
    const row = await waitFor(
      "the order to fail",
      async () => {
        const r = await acmeRow(failing.id);
        return r?.status === "failed" ? r : undefined;
      },
      40_000,
    );
    expect(row.lastError).toContain("HTTP-01 validation of unserved.test failed");
    expect(row.certificateId).toBeNull();
    expect(row.failures).toBe(1);
    expect(new Date(row.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await op.certificate.list({ clusterId })).toEqual(certsBefore);
  });
});
