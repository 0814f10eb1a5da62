import { describe, expect, it } from "vitest";
import {
  backendSni,
  backendTlsSchema,
  caBundleMaterialSchema,
  MAX_CA_BUNDLE_PEM_BYTES,
  missingCaBundles,
} from "../src/backend-tls";
import { unsupportedReason } from "../src/engine-support";
import { snapshotPayload } from "../src/messages";
import { snapshotSchema } from "../src/snapshot";
import { missingTlsMaterial } from "../src/tls";

const fp = (c: string) => c.repeat(64);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const pool = (tls: unknown) => ({
  id: "p",
  name: "web",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [],
  tls,
});
const snapshot = (tls: unknown, extra: Record<string, unknown> = {}) => ({
  version: 1,
  hash: fp("0"),
  clusterId: "c",
  createdAt: "2026-01-01T00:00:00Z",
  listeners: [],
  pools: [pool(tls)],
  ...extra,
});

describe("backend TLS in the snapshot", () => {
  it("refuses hostile SNI names: control characters, spaces, IPs, upper case, trailing dots, config syntax", () => {
    for (const sniName of [
      "a\r\nb",
      "back end",
      "127.0.0.1",
      "Backend.internal",
      "backend.internal.",
      "x) crt /etc/shadow",
      "a".repeat(254),
      "",
    ]) {
      const r = backendTlsSchema.safeParse({ sni: "fixed", sniName });
      expect(r.success, JSON.stringify(sniName)).toBe(false);
    }
    expect(backendTlsSchema.parse({ sni: "fixed", sniName: "backend.internal" }).sniName).toBe(
      "backend.internal",
    );
  });

  it("refuses hostile ids for the CA bundle and the client certificate", () => {
    for (const id of ["../etc/passwd", "a b", "a\nb", "", "x".repeat(200), "ca/1"]) {
      expect(backendTlsSchema.safeParse({ verify: "ca", caBundleId: id }).success, id).toBe(false);
      expect(backendTlsSchema.safeParse({ clientCertificateId: id }).success, id).toBe(false);
    }
  });

  it("ties the bundle to verify ca and the name to a fixed SNI", () => {
    expect(backendTlsSchema.safeParse({ verify: "ca" }).success).toBe(false);
    expect(backendTlsSchema.safeParse({ verify: "system", caBundleId: "ca1" }).success).toBe(false);
    expect(backendTlsSchema.safeParse({ sni: "fixed" }).success).toBe(false);
    expect(backendTlsSchema.safeParse({ sni: "none", sniName: "a.b" }).success).toBe(false);
    expect(backendTlsSchema.parse({})).toEqual({
      verify: "system",
      caBundleId: null,
      sni: "backend",
      sniName: null,
      clientCertificateId: null,
      minVersion: "TLSv1.2",
    });
  });

  it("sends the backend's host name as SNI, never an IP address", () => {
    const t = backendTlsSchema.parse({});
    expect(backendSni(t, "API.Example.com.")).toBe("api.example.com");
    expect(backendSni(t, "10.0.0.1")).toBeUndefined();
    expect(backendSni(t, "::1")).toBeUndefined();
    expect(backendSni(backendTlsSchema.parse({ sni: "none" }), "api.example.com")).toBeUndefined();
  });

  it("checks that pools reference certificates and bundles the snapshot lists", () => {
    const bad = snapshotSchema.safeParse(
      snapshot({ verify: "ca", caBundleId: "ca1", clientCertificateId: "c1" }),
    );
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => i.message);
    expect(messages).toContain("pool p uses CA bundle ca1, which is not in the snapshot");
    expect(messages).toContain("pool p uses client certificate c1, which is not in the snapshot");
    const ok = snapshotSchema.parse(
      snapshot(
        { verify: "ca", caBundleId: "ca1", clientCertificateId: "c1" },
        {
          caBundles: [{ id: "ca1", fingerprint: fp("b") }],
          certificates: [{ id: "c1", fingerprint: fp("c"), names: [], notAfter: "2027-01-01T00:00:00Z" }],
        },
      ),
    );
    expect(missingCaBundles(ok, [])).toEqual(["pool web: no PEM for CA bundle ca1"]);
    expect(missingCaBundles(ok, [{ id: "ca1", fingerprint: fp("d") }])).toEqual([
      `pool web: CA bundle ca1 has fingerprint ${fp("d")}, not ${fp("b")}`,
    ]);
    expect(missingCaBundles(ok, [{ id: "ca1", fingerprint: fp("b") }])).toEqual([]);
    expect(missingTlsMaterial(ok, [])).toEqual(["pool web: no key material for certificate c1"]);
  });

  it("keeps the hash input of pools without TLS unchanged (the key is left out when unset)", () => {
    const s = snapshotSchema.parse({
      ...snapshot(undefined),
      pools: [{ ...pool(undefined), tls: undefined }],
    });
    expect("tls" in s.pools[0]! && s.pools[0]!.tls !== undefined).toBe(false);
  });

  it("carries bundle PEM only as CERTIFICATE blocks within the size bound", () => {
    expect(caBundleMaterialSchema.safeParse({ id: "ca1", fingerprint: fp("a"), pem: PEM }).success).toBe(
      true,
    );
    for (const pem of [
      "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
      `${PEM}garbage\n`,
      PEM.repeat(Math.ceil(MAX_CA_BUNDLE_PEM_BYTES / PEM.length) + 1),
    ]) {
      expect(caBundleMaterialSchema.safeParse({ id: "ca1", fingerprint: fp("a"), pem }).success).toBe(false);
    }
    const payload = snapshotPayload.safeParse({
      snapshot: snapshot(null),
      caBundles: [{ id: "ca1", fingerprint: fp("a"), pem: PEM }],
    });
    expect(payload.success).toBe(true);
  });

  it("the capability table: the builtin engine refuses TLS origination behind TCP listeners, HAProxy does it", () => {
    expect(unsupportedReason("builtin", "pool:backend_tls")).toBeUndefined();
    expect(unsupportedReason("builtin", "pool:backend_tls_tcp")).toMatch(/does not originate TLS/);
    expect(unsupportedReason("haproxy", "pool:backend_tls_tcp")).toBeUndefined();
  });
});
