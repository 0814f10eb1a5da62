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
  opts: { bundle?: TestCa; cert?: TestCertificate } = {},
): Snapshot {
  const hc = { type: "http", path: "/", intervalMs: 100, timeoutMs: 1000, fall: 2, rise: 1 } as const;
  const base = snap(
    version,
    [http("web", port, "p1")],
    [pool("p1", [be("b1", mtls.port)], { healthCheck: hc })],
  );
  return withPoolTls(base, tls, opts);
}

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
    expect(names).toEqual(["ca-backend-ca.pem", "client.pem"]);
    for (const n of names) expect((await stat(join(certDir, n))).mode & 0o777).toBe(0o600);
  });

  it("is refused by the backend without a client certificate", async () => {
    await haproxy.apply(
      tlsSnapshot(1, port, { verify: "ca", caBundleId: "backend-ca" }, { bundle: serverCa }),
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
        { verify: "ca", caBundleId: "wrong-ca", clientCertificateId: "client" },
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
        { verify: "ca", caBundleId: "backend-ca", clientCertificateId: "client" },
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
});
