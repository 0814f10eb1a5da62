import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unsupportedReason } from "../src/engine-support";
import { consoleMessageSchema } from "../src/messages";
import { snapshotSchema } from "../src/snapshot";
import {
  isCertificateName,
  isChainPem,
  isKeyPem,
  listenerTlsSchema,
  MAX_CHAIN_PEM_BYTES,
  MAX_KEY_PEM_BYTES,
  missingTlsMaterial,
  tlsMaterialSchema,
} from "../src/tls";

const fp = (c: string) => c.repeat(64);
const cert = (id: string, fingerprint = fp("a")) => ({
  id,
  fingerprint,
  names: ["example.com", "*.example.com"],
  notAfter: "2027-01-01T00:00:00.000Z",
});
const pool = {
  id: "p",
  name: "p",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [],
};
const listener = (extra: Record<string, unknown> = {}) => ({
  id: "l",
  name: "web",
  protocol: "http",
  bindAddress: "0.0.0.0",
  port: 443,
  routes: [],
  ...extra,
});
const snap = (listeners: unknown[], certificates: unknown[] = []) => ({
  version: 1,
  hash: fp("b"),
  clusterId: "c",
  createdAt: "t",
  listeners,
  pools: [pool],
  certificates,
});
const tls = (extra: Record<string, unknown> = {}) => ({
  certificateIds: ["c1"],
  defaultCertificateId: "c1",
  ...extra,
});
const messages = (r: { success: boolean; error?: { issues: Array<{ message: string }> } }) =>
  r.error?.issues.map((i) => i.message).join("; ") ?? "";

/** A base64 body line as PEM writes them (64 characters). */
const B64 = "MIIBszCCAVmgAwIBAgIUQ3VzdG9tIGJhc2U2NCBjb250ZW50IGZvciB0ZXN0cw==";
const block = (label: string, lines = 3) =>
  `-----BEGIN ${label}-----\n${Array(lines).fill(B64).join("\n")}\n-----END ${label}-----\n`;

describe("snapshot certificates and listener tls", () => {
  it("a snapshot written before TLS parses with no certificates and plain listeners, and keeps no tls key", () => {
    const s = snapshotSchema.parse({ ...snap([listener({ port: 80 })]), certificates: undefined });
    expect(s.certificates).toEqual([]);
    const l = s.listeners[0]!;
    expect(l.protocol !== "dns" && l.tls).toBeUndefined();
    // Left out, not defaulted: snapshots without it hash as before.
    expect(l.protocol !== "dns" && "redirectToHttps" in l.settings).toBe(false);
  });

  it("fills the TLS defaults: unknown names get the default certificate, TLS 1.2, no HSTS, http/1.1", () => {
    const s = snapshotSchema.parse(snap([listener({ tls: tls() })], [cert("c1")]));
    const l = s.listeners[0]!;
    expect(l.protocol !== "dns" && l.tls).toEqual({
      certificateIds: ["c1"],
      defaultCertificateId: "c1",
      unknownName: "default",
      minVersion: "TLSv1.2",
      hsts: null,
      alpn: ["http/1.1"],
    });
  });

  it("refuses a listener naming a certificate the snapshot does not list", () => {
    const r = snapshotSchema.safeParse(
      snap([listener({ tls: tls({ certificateIds: ["c1", "c2"] }) })], [cert("c1")]),
    );
    expect(r.success).toBe(false);
    expect(messages(r)).toContain("listener l uses certificate c2, which is not in the snapshot");
    expect(r.error?.issues[0]?.path).toEqual(["listeners", 0, "tls", "certificateIds", 1]);
  });

  it("refuses a default certificate that is not one of the listener's, and a certificate listed twice", () => {
    const notListed = listenerTlsSchema.safeParse(tls({ defaultCertificateId: "c2" }));
    expect(messages(notListed)).toContain(
      "the default certificate c2 is not one of the listener's certificates",
    );
    expect(notListed.error?.issues[0]?.path).toEqual(["defaultCertificateId"]);
    expect(messages(listenerTlsSchema.safeParse(tls({ certificateIds: ["c1", "c1"] })))).toContain(
      "certificate c1 is listed twice",
    );
    const twice = snapshotSchema.safeParse(snap([], [cert("c1"), cert("c1")]));
    expect(messages(twice)).toContain("certificate c1 is listed twice");
  });

  it("bounds a listener's certificates (1..100), the HSTS max-age and the minimum version", () => {
    expect(listenerTlsSchema.safeParse(tls({ certificateIds: [] })).success).toBe(false);
    const many = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect(
      listenerTlsSchema.safeParse(tls({ certificateIds: many, defaultCertificateId: "c0" })).success,
    ).toBe(false);
    expect(listenerTlsSchema.safeParse(tls({ hsts: { maxAgeSeconds: 63_072_001 } })).success).toBe(false);
    expect(listenerTlsSchema.parse(tls({ hsts: { maxAgeSeconds: 31_536_000 } })).hsts).toEqual({
      maxAgeSeconds: 31_536_000,
      includeSubDomains: false,
      preload: false,
    });
    expect(listenerTlsSchema.safeParse(tls({ minVersion: "TLSv1.1" })).success).toBe(false);
    expect(listenerTlsSchema.safeParse(tls({ alpn: ["h2"] })).success).toBe(false);
  });

  it("keeps TLS to http listeners and redirectToHttps to plain http listeners", () => {
    const tcp = snapshotSchema.safeParse(snap([listener({ protocol: "tcp", tls: tls() })], [cert("c1")]));
    expect(messages(tcp)).toContain("listener l: TLS belongs to http listeners");
    const redirect = { settings: { redirectToHttps: { status: 301, port: 443 } } };
    expect(snapshotSchema.safeParse(snap([listener({ port: 80, ...redirect })])).success).toBe(true);
    const onTls = snapshotSchema.safeParse(snap([listener({ tls: tls(), ...redirect })], [cert("c1")]));
    expect(messages(onTls)).toContain("only plain http listeners redirect to https");
    const onTcp = snapshotSchema.safeParse(snap([listener({ protocol: "tcp", ...redirect })]));
    expect(messages(onTcp)).toContain("only plain http listeners redirect to https");
    const badStatus = snapshotSchema.safeParse(
      snap([listener({ settings: { redirectToHttps: { status: 302, port: 443 } } })]),
    );
    expect(badStatus.success).toBe(false);
  });

  it("certificate names are lower-case host names or one-label wildcards; fingerprints lower-case sha256 hex", () => {
    for (const ok of ["example.com", "*.example.com", "a-b.example.co.uk", "localhost", "*.localhost"]) {
      expect(isCertificateName(ok), ok).toBe(true);
    }
    for (const bad of [
      "Example.com",
      "*.*.example.com",
      "a.*.example.com",
      "*",
      "*.",
      "192.0.2.1",
      "exa mple.com",
      "example.com\r\nX-Evil: 1",
      "ex_ample.com",
      "example.com.",
      `${"a".repeat(64)}.com`,
    ]) {
      expect(isCertificateName(bad), bad).toBe(false);
    }
    const upper = snapshotSchema.safeParse(snap([], [{ ...cert("c1"), fingerprint: fp("A") }]));
    expect(upper.success).toBe(false);
    const badTime = snapshotSchema.safeParse(snap([], [{ ...cert("c1"), notAfter: "soon" }]));
    expect(badTime.success).toBe(false);
  });
});

describe("PEM grammar of the key material", () => {
  it("accepts CERTIFICATE chains and one PKCS#8 key with LF lines", () => {
    expect(isChainPem(block("CERTIFICATE") + block("CERTIFICATE"))).toBe(true);
    expect(isChainPem(block("CERTIFICATE").trimEnd())).toBe(true);
    expect(isKeyPem(block("PRIVATE KEY"))).toBe(true);
  });

  it("refuses hostile and malformed PEM", () => {
    const hostile = [
      "",
      "not pem",
      block("CERTIFICATE").replace(B64, `${B64}\r`), // CR inside
      block("CERTIFICATE").replace(B64, "Proc-Type: 4,ENCRYPTED"), // headers
      block("CERTIFICATE").replace(B64, `${B64.slice(0, 10)} ${B64.slice(11)}`), // space
      block("CERTIFICATE").replace(B64, "$(rm -rf /)"),
      `text before\n${block("CERTIFICATE")}`,
      `${block("CERTIFICATE")}text after\n`,
      `${block("CERTIFICATE")}\n${block("CERTIFICATE")}`, // blank line between blocks
      block("CERTIFICATE").replace("-----END CERTIFICATE-----", "-----END PRIVATE KEY-----"),
      block("CERTIFICATE").replace(/\n-----END CERTIFICATE-----\n$/, "\n"), // unterminated
      "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", // empty body
      block("CERTIFICATE").replace(B64, "A".repeat(77)), // overlong line
      block("PRIVATE KEY"), // a key in the chain
    ];
    for (const s of hostile) expect(isChainPem(s), JSON.stringify(s.slice(0, 80))).toBe(false);
    for (const s of [
      block("RSA PRIVATE KEY"),
      block("EC PRIVATE KEY"),
      block("ENCRYPTED PRIVATE KEY"),
      block("PRIVATE KEY") + block("PRIVATE KEY"),
      block("CERTIFICATE"),
      `${block("PRIVATE KEY")}\u0000`,
    ]) {
      expect(isKeyPem(s), s.slice(0, 40)).toBe(false);
    }
  });

  it("refuses material over the size bounds (chain 64 KiB, key 16 KiB)", () => {
    const bigChain = block("CERTIFICATE", Math.ceil(MAX_CHAIN_PEM_BYTES / (B64.length + 1)) + 1);
    expect(bigChain.length).toBeGreaterThan(MAX_CHAIN_PEM_BYTES);
    expect(isChainPem(bigChain)).toBe(false);
    const bigKey = block("PRIVATE KEY", Math.ceil(MAX_KEY_PEM_BYTES / (B64.length + 1)) + 1);
    expect(isKeyPem(bigKey)).toBe(false);
    const material = { id: "c1", fingerprint: fp("a"), chainPem: bigChain, keyPem: block("PRIVATE KEY") };
    expect(tlsMaterialSchema.safeParse(material).success).toBe(false);
  });

  describe("with openssl's own output", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "fulcrum-tls-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("accepts a real certificate and PKCS#8 key", () => {
      execFileSync("openssl", [
        "req",
        ...["-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
        ...["-days", "2", "-subj", "/CN=example.com"],
      ]);
      const chainPem = readFileSync(join(dir, "cert.pem"), "utf8");
      const keyPem = readFileSync(join(dir, "key.pem"), "utf8");
      expect(isChainPem(chainPem)).toBe(true);
      expect(isKeyPem(keyPem)).toBe(true);
    });
  });
});

describe("tlsMaterial in the snapshot message", () => {
  const material = {
    id: "c1",
    fingerprint: fp("a"),
    chainPem: block("CERTIFICATE"),
    keyPem: block("PRIVATE KEY"),
  };
  const frame = (payload: Record<string, unknown>) => ({ v: 1, type: "snapshot", id: "1", payload });

  it("travels next to the snapshot, outside its body; a frame without it still parses", () => {
    const s = snap([listener({ tls: tls() })], [cert("c1")]);
    const parsed = consoleMessageSchema.parse(frame({ snapshot: s, tlsMaterial: [material] }));
    expect(parsed.type === "snapshot" && parsed.payload.tlsMaterial).toEqual([material]);
    expect(parsed.type === "snapshot" && "keyPem" in parsed.payload.snapshot.certificates[0]!).toBe(false);
    expect(consoleMessageSchema.safeParse(frame({ snapshot: snap([]) })).success).toBe(true);
    const hostile = frame({
      snapshot: s,
      tlsMaterial: [{ ...material, keyPem: "-----BEGIN PRIVATE KEY-----\n" }],
    });
    expect(consoleMessageSchema.safeParse(hostile).success).toBe(false);
  });

  it("missingTlsMaterial names certificates without material or with another fingerprint", () => {
    const s = snapshotSchema.parse(
      snap(
        [listener({ tls: tls({ certificateIds: ["c1", "c2", "c3"] }) })],
        [cert("c1"), cert("c2"), cert("c3", fp("c"))],
      ),
    );
    expect(missingTlsMaterial(s, [material, { ...material, id: "c3" }])).toEqual([
      "listener web: no key material for certificate c2",
      `listener web: key material for certificate c3 has fingerprint ${fp("a")}, not ${fp("c")}`,
    ]);
    expect(
      missingTlsMaterial(s, [
        material,
        { ...material, id: "c2" },
        { ...material, id: "c3", fingerprint: fp("c") },
      ]),
    ).toEqual([]);
  });
});

describe("listener:tls capability", () => {
  it("both engines terminate TLS and redirect to https", () => {
    for (const engine of ["builtin", "haproxy"] as const) {
      expect(unsupportedReason(engine, "listener:tls")).toBeUndefined();
      expect(unsupportedReason(engine, "listener:redirect_to_https")).toBeUndefined();
    }
  });
});
