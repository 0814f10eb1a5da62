import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendTls, HealthEvent, Snapshot } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HaproxyEngine } from "../../src/engines/haproxy/haproxy-engine";
import { silentLogger } from "../../src/log";
import { until } from "../helpers/backends";
import type { TestCertificate } from "../helpers/certs";
import {
  FULL_MTLS,
  type MtlsBackend,
  type MtlsFixture,
  type SeenTls,
  startMtlsFixture,
} from "../helpers/mtls-backend";
import { freePort, get } from "../helpers/net";
import { withPoolTls } from "../helpers/snapshot";
import type { TestCa } from "../helpers/test-ca";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * TLS to backends on the HAProxy engine (issue 16) through a real HAProxy:
 * `server … ssl verify required ca-file … sni … crt … check-ssl` against a
 * node:https backend that requires a client certificate.
 */

let fx: MtlsFixture;
let serverCa: TestCa;
let otherCa: TestCa;
let clientCert: TestCertificate;
let mtls: MtlsBackend;
beforeAll(async () => {
  fx = await startMtlsFixture();
  ({ serverCa, otherCa, clientCert, mtls } = fx);
});
afterAll(() => fx.close());

function tlsSnapshot(
  version: number,
  port: number,
  tls: Partial<BackendTls>,
  opts: { bundle?: TestCa; cert?: TestCertificate; address?: string } = {},
): Snapshot {
  const hc = { type: "http", path: "/", intervalMs: 100, timeoutMs: 1000, fall: 2, rise: 1 } as const;
  const address = opts.address ?? "127.0.0.1";
  const base = snap(
    version,
    [http("web", port, "p1")],
    [pool("p1", [be("b1", mtls.port, { address })], { healthCheck: hc })],
  );
  return withPoolTls(base, tls, opts);
}

/** The name the backend's certificate carries, sent as SNI (an IP backend needs one to be verified). */
const fixedSni = { sni: "fixed", sniName: "backend.internal" } as const;

let dir: string;
let haproxy: HaproxyEngine;
let port: number;
let events: HealthEvent[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-backend-tls-"));
  haproxy = new HaproxyEngine({ log: silentLogger, stateDir: dir, bin: BIN, statsIntervalMs: 100 });
  events = [];
  haproxy.onHealthEvent((e) => events.push(e));
  port = await freePort();
});
afterEach(async () => {
  await haproxy.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("TLS to backends on HAProxy", () => {
  it("presents the client certificate, verifies against the uploaded CA and sends the fixed SNI; files are 0600", async () => {
    const s = tlsSnapshot(1, port, FULL_MTLS, { bundle: serverCa, cert: clientCert });
    await haproxy.apply(s, [clientCert.material], [serverCa.bundle("backend-ca").material]);
    let r = await get(port, "/");
    // 503 until HAProxy's first check has passed: ask again until the answer changes (bounded).
    for (let i = 0; i < 100 && r.status === 503; i++) r = await get(port, "/");
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body) as SeenTls).toMatchObject({
      sni: "backend.internal",
      clientCn: "fulcrum-agent",
    });
    const certDir = haproxy.files.certDir;
    const names = (await readdir(certDir)).sort();
    expect(names).toEqual(["ca", "client.pem"]);
    expect(await readdir(join(certDir, "ca"))).toEqual(["backend-ca.pem"]);
    expect((await stat(join(certDir, "ca"))).mode & 0o777).toBe(0o700);
    for (const n of ["ca/backend-ca.pem", "client.pem"])
      expect((await stat(join(certDir, n))).mode & 0o777).toBe(0o600);
  });

  it("is refused by the backend without a client certificate", async () => {
    await haproxy.apply(
      tlsSnapshot(1, port, { verify: "ca", caBundleId: "backend-ca", ...fixedSni }, { bundle: serverCa }),
      [],
      [serverCa.bundle("backend-ca").material],
    );
    expect(await until(() => events.some((e) => e.state === "down"), 10_000)).toBe(true);
    expect((await get(port, "/")).status).toBeGreaterThanOrEqual(502);
  });

  it("with the wrong CA, health checks mark the backend down with the SSL reason; the right CA brings it back", async () => {
    await haproxy.apply(
      tlsSnapshot(
        1,
        port,
        { verify: "ca", caBundleId: "wrong-ca", clientCertificateId: "client", ...fixedSni },
        { bundle: otherCa, cert: clientCert },
      ),
      [clientCert.material],
      [otherCa.bundle("wrong-ca").material],
    );
    expect(await until(() => events.some((e) => e.state === "down"), 10_000)).toBe(true);
    expect(events.find((e) => e.state === "down")?.reason).toMatch(/SSL handshake failure/i);
    await haproxy.apply(
      tlsSnapshot(
        2,
        port,
        { verify: "ca", caBundleId: "backend-ca", clientCertificateId: "client", ...fixedSni },
        { bundle: serverCa, cert: clientCert },
      ),
      [clientCert.material],
      [serverCa.bundle("backend-ca").material],
    );
    expect(await until(() => events.some((e) => e.state === "up"), 10_000)).toBe(true);
    expect((await get(port, "/")).status).toBe(200);
  });

  it("NACKs a snapshot whose CA bundle PEM is missing or does not match, writing nothing", async () => {
    const s = tlsSnapshot(1, port, { verify: "ca", caBundleId: "backend-ca" }, { bundle: serverCa });
    await expect(haproxy.apply(s, [], [])).rejects.toThrow(/no PEM for CA bundle backend-ca/);
    await expect(haproxy.apply(s, [], [{ ...otherCa.bundle("backend-ca").material }])).rejects.toThrow(
      /CA bundle backend-ca has fingerprint/,
    );
    expect(haproxy.applied).toBeUndefined();
  });

  it("with SNI none, checks the certificate against the backend's host name: a certificate for another name is refused", async () => {
    // localhost is 127.0.0.1, whose certificate (signed by the trusted CA) names backend.internal only.
    await haproxy.apply(
      tlsSnapshot(
        1,
        port,
        { verify: "ca", caBundleId: "backend-ca", sni: "none", clientCertificateId: "client" },
        { bundle: serverCa, cert: clientCert, address: "localhost" },
      ),
      [clientCert.material],
      [serverCa.bundle("backend-ca").material],
    );
    expect(await until(() => events.some((e) => e.state === "down"), 10_000)).toBe(true);
    expect(events.some((e) => e.state === "up")).toBe(false);
    expect((await get(port, "/")).status).toBe(503);
  });

  it("NACKs an IP-address backend with verification on and no SNI: HAProxy cannot check its name", async () => {
    for (const sni of ["none", "backend"] as const) {
      const s = tlsSnapshot(1, port, { verify: "ca", caBundleId: "backend-ca", sni }, { bundle: serverCa });
      await expect(haproxy.apply(s, [], [serverCa.bundle("backend-ca").material])).rejects.toThrow(
        /HAProxy cannot check a certificate against an IP address; set the pool's SNI to a fixed name/,
      );
    }
    expect(haproxy.applied).toBeUndefined();
  });

  it("keeps a CA bundle and a certificate apart whatever their ids (bundle x, client certificate ca-x)", async () => {
    const cert: TestCertificate = {
      ref: { ...clientCert.ref, id: "ca-x" },
      material: { ...clientCert.material, id: "ca-x" },
    };
    await haproxy.apply(
      tlsSnapshot(
        1,
        port,
        { verify: "ca", caBundleId: "x", clientCertificateId: "ca-x", ...fixedSni },
        { bundle: serverCa, cert },
      ),
      [cert.material],
      [serverCa.bundle("x").material],
    );
    let r = await get(port, "/");
    for (let i = 0; i < 100 && r.status === 503; i++) r = await get(port, "/");
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body) as SeenTls).toMatchObject({ clientCn: "fulcrum-agent" });
  });
});
