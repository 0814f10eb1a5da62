import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BackendTls, type HealthEvent, type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { spawnAgent } from "./helpers/agent-process";
import { until } from "./helpers/backends";
import type { TestCertificate } from "./helpers/certs";
import {
  FULL_MTLS,
  type MtlsBackend,
  type MtlsFixture,
  type SeenTls,
  startMtlsFixture,
} from "./helpers/mtls-backend";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot, withPoolTls } from "./helpers/snapshot";
import type { TestCa } from "./helpers/test-ca";

/*
 * TLS to backends in the builtin engine (issue 16): a real node:https backend
 * that requires a client certificate from a test CA, real TLS from the
 * engine's h1 front end and health checks, certificates from the openssl CLI.
 */

let fx: MtlsFixture;
let serverCa: TestCa;
let otherCa: TestCa;
let clientCert: TestCertificate;
let strangerCert: TestCertificate;
let mtls: MtlsBackend;
beforeAll(async () => {
  fx = await startMtlsFixture();
  ({ serverCa, otherCa, clientCert, strangerCert, mtls } = fx);
});
afterAll(() => fx.close());

/** One http listener → pool p1 → the mTLS backend, with `tls` on the pool and the references it needs. */
function backendTlsSnapshot(
  version: number,
  port: number,
  tls: Partial<BackendTls>,
  opts: { bundle?: TestCa; cert?: TestCertificate; healthCheck?: Record<string, unknown> } = {},
): Snapshot {
  const base = makeSnapshot(version, [httpListener(port)], [backend("b1", mtls.port)], "round_robin", [], {
    healthCheck: opts.healthCheck ?? {},
  });
  return withPoolTls(base, tls, opts);
}

const seen = async (port: number, agent?: Agent) => {
  const r = await get(port, "/", agent ? { agent } : {});
  return { status: r.status, tls: r.status === 200 ? (JSON.parse(r.body) as SeenTls) : undefined };
};

describe("TLS to backends, builtin engine", () => {
  let engine: NodeEngine;
  let port: number;
  let events: HealthEvent[];
  beforeEach(async () => {
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 } });
    events = [];
    engine.onHealthEvent((e) => events.push(e));
    port = await freePort();
  });
  afterEach(() => engine.stop());

  it("presents the client certificate, verifies against the uploaded CA, sends the fixed SNI, keeps the connection", async () => {
    const snap = backendTlsSnapshot(1, port, FULL_MTLS, { bundle: serverCa, cert: clientCert });
    await engine.apply(snap, [clientCert.material], [serverCa.bundle("backend-ca").material]);
    const before = mtls.handshakes;
    const client = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await seen(port, client);
        expect(r.status).toBe(200);
        expect(r.tls).toEqual({
          sni: "backend.internal",
          clientCn: "fulcrum-agent",
          resumed: expect.any(Boolean),
        });
      }
    } finally {
      client.destroy();
    }
    // Five requests over one kept-alive upstream connection: one handshake.
    expect(mtls.handshakes - before).toBe(1);
  });

  it("resumes TLS sessions on new connections (health checks open one per check)", async () => {
    const snap = backendTlsSnapshot(
      1,
      port,
      { verify: "ca", caBundleId: "backend-ca", clientCertificateId: "client" },
      { bundle: serverCa, cert: clientCert, healthCheck: { type: "tcp", intervalMs: 100, timeoutMs: 1000 } },
    );
    const resumedBefore = mtls.resumed;
    await engine.apply(snap, [clientCert.material], [serverCa.bundle("backend-ca").material]);
    expect(await until(() => mtls.resumed - resumedBefore >= 2, 5000)).toBe(true);
    // SNI "backend" with an IP address sends none (SNI never carries an IP); identity is checked against the IP SAN.
    const r = await seen(port);
    expect(r.tls?.sni).toBeNull();
  });

  it("is refused by the backend without a client certificate, or with one it does not trust", async () => {
    await engine.apply(
      backendTlsSnapshot(1, port, { verify: "ca", caBundleId: "backend-ca" }, { bundle: serverCa }),
      [],
      [serverCa.bundle("backend-ca").material],
    );
    expect((await seen(port)).status).toBe(502);
    const stranger = backendTlsSnapshot(
      2,
      port,
      { verify: "ca", caBundleId: "backend-ca", clientCertificateId: "stranger" },
      { bundle: serverCa, cert: strangerCert },
    );
    await engine.apply(stranger, [strangerCert.material], [serverCa.bundle("backend-ca").material]);
    expect((await seen(port)).status).toBe(502);
  });

  it("with the wrong CA, health checks mark the backend down with a readable reason and requests fail cleanly", async () => {
    const snap = backendTlsSnapshot(
      1,
      port,
      { verify: "ca", caBundleId: "wrong-ca", clientCertificateId: "client" },
      {
        bundle: otherCa,
        cert: clientCert,
        healthCheck: { type: "http", path: "/", intervalMs: 100, timeoutMs: 1000, fall: 2 },
      },
    );
    await engine.apply(snap, [clientCert.material], [otherCa.bundle("wrong-ca").material]);
    expect(await until(() => events.some((e) => e.state === "down"), 5000)).toBe(true);
    const down = events.find((e) => e.state === "down")!;
    expect(down.reason).toMatch(
      /^https check failed: certificate verify failed: unable to verify the first certificate/,
    );
    expect((await seen(port)).status).toBeGreaterThanOrEqual(502);
    // The engine still serves: the right CA brings the backend back.
    const good = backendTlsSnapshot(
      2,
      port,
      { verify: "ca", caBundleId: "backend-ca", clientCertificateId: "client" },
      {
        bundle: serverCa,
        cert: clientCert,
        healthCheck: { type: "http", path: "/", intervalMs: 100, timeoutMs: 1000 },
      },
    );
    await engine.apply(good, [clientCert.material], [serverCa.bundle("backend-ca").material]);
    expect(await until(() => events.some((e) => e.state === "up"), 5000)).toBe(true);
    expect((await seen(port)).status).toBe(200);
  });

  it("verify none connects to a backend no bundle trusts; system roots refuse the private CA", async () => {
    await engine.apply(
      backendTlsSnapshot(1, port, { verify: "none", clientCertificateId: "client" }, { cert: clientCert }),
      [clientCert.material],
    );
    expect((await seen(port)).status).toBe(200);
    await engine.apply(
      backendTlsSnapshot(2, port, { verify: "system", clientCertificateId: "client" }, { cert: clientCert }),
      [clientCert.material],
    );
    expect((await seen(port)).status).toBe(502);
  });

  it("NACKs a snapshot whose CA bundle or client key is missing or does not match, and keeps serving", async () => {
    const ok = backendTlsSnapshot(
      1,
      port,
      { verify: "none", clientCertificateId: "client" },
      { cert: clientCert },
    );
    await engine.apply(ok, [clientCert.material]);
    const needsBundle = backendTlsSnapshot(
      2,
      port,
      { verify: "ca", caBundleId: "backend-ca" },
      { bundle: serverCa },
    );
    await expect(engine.apply(needsBundle, [], [])).rejects.toThrow(/no PEM for CA bundle backend-ca/);
    await expect(
      engine.apply(needsBundle, [], [{ ...otherCa.bundle("backend-ca").material }]),
    ).rejects.toThrow(/CA bundle backend-ca has fingerprint [0-9a-f]{64}, the snapshot names/);
    const needsKey = backendTlsSnapshot(
      3,
      port,
      { verify: "none", clientCertificateId: "client" },
      { cert: clientCert },
    );
    await expect(engine.apply(needsKey, [], [])).rejects.toThrow(
      /no key material for client certificate client/,
    );
    await expect(engine.apply(needsKey, [{ ...strangerCert.material, id: "client" }], [])).rejects.toThrow(
      /pool web: client certificate/,
    );
    expect(engine.applied?.version).toBe(1);
    expect((await seen(port)).status).toBe(200);
  });

  it("NACKs TLS origination behind a TCP listener through the capability table", async () => {
    const s = structuredClone(backendTlsSnapshot(1, port, { verify: "none" })) as unknown as Record<
      string,
      unknown
    > & {
      listeners: Record<string, unknown>[];
    };
    s.listeners[0]!.protocol = "tcp";
    await expect(engine.apply(snapshotSchema.parse(s))).rejects.toThrow(
      /pool:backend_tls_tcp is not supported/,
    );
  });
});

describe("TLS to backends, a real fulcrum-agent process", () => {
  it("serves a --config file whose pool verifies against a CA bundle sent beside the snapshot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backend-tls-agent-"));
    const port = await freePort();
    const snap = backendTlsSnapshot(1, port, FULL_MTLS, { bundle: serverCa, cert: clientCert });
    const file = join(dir, "snapshot.json");
    await writeFile(
      file,
      JSON.stringify({
        snapshot: snap,
        tlsMaterial: [clientCert.material],
        caBundles: [serverCa.bundle("backend-ca").material],
      }),
    );
    const agent = spawnAgent(["--config", file]);
    try {
      await agent.waitFor(/applied snapshot/);
      const r = await seen(port);
      expect(r.status).toBe(200);
      expect(r.tls).toMatchObject({ sni: "backend.internal", clientCn: "fulcrum-agent" });
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
