import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import path from "node:path";
import { decodeConsoleMessage, missingTlsMaterial, type Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectUpload } from "../src/server/domain/certificates/inspect";
import {
  decryptPrivateKey,
  encryptPrivateKey,
  KeyDecryptionError,
  keyAad,
  keyRing,
} from "../src/server/domain/certificates/key-encryption";
import { loadTlsMaterial, reencryptCertificateKeys } from "../src/server/domain/certificates/material";
import { SnapshotFrames } from "../src/server/gateway/snapshot-frames";
import { actors, callerAs, failure, startTestConsole, type TestConsole } from "./support/console";
import { type Issued, TestPki } from "./test-pki";

let pki: TestPki;
let inter: Issued;
let leaf: Issued;
beforeAll(() => {
  pki = new TestPki();
  inter = pki.issue({ cn: "Fulcrum Test Intermediate", ca: true });
  leaf = pki.issue({
    cn: "example.com",
    dns: ["example.com", "*.Example.com"],
    ips: ["192.0.2.1"],
    issuer: inter,
  });
});
afterAll(() => pki?.close());

/** What an upload is refused with: the error's stable code and the fields it names. */
function refusal(input: { chainPem: string; keyPem: string }, now?: Date) {
  try {
    inspectUpload(input, now);
  } catch (e) {
    const err = e as { code?: string; fieldErrors?: Record<string, string>; message: string };
    return { code: err.code, fields: Object.keys(err.fieldErrors ?? {}), message: err.message };
  }
  throw new Error("expected the upload to be refused");
}

describe("upload checks (node:crypto on openssl-made certificates)", () => {
  it("orders a chain given issuer first, and reads names, key type, fingerprint and dates", () => {
    const c = inspectUpload({ chainPem: inter.certPem + leaf.certPem, keyPem: leaf.keyPem });
    const [first, second] = c.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    expect(new X509Certificate(first!).subject).toBe("CN=example.com");
    expect(new X509Certificate(second!).subject).toBe("CN=Fulcrum Test Intermediate");
    // openssl's own fingerprint of the leaf, computed independently.
    const openssl = execFileSync("openssl", [
      "x509",
      "-in",
      leaf.certFile,
      "-noout",
      "-fingerprint",
      "-sha256",
    ])
      .toString()
      .trim()
      .split("=")[1]!
      .replaceAll(":", "")
      .toLowerCase();
    expect(c.fingerprint).toBe(openssl);
    expect(c.names).toEqual(["*.example.com", "example.com"]);
    expect(c.ipAddresses).toEqual(["192.0.2.1"]);
    expect(c.keyType).toBe("EC P-256");
    expect(c.subject).toBe("CN=example.com");
    expect(c.issuer).toBe("CN=Fulcrum Test Intermediate");
    expect(c.notAfter.getTime()).toBe(new Date(new X509Certificate(leaf.certPem).validTo).getTime());
    expect(c.keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
  });

  it("accepts CRLF, text around the blocks, RSA 2048 in the traditional form, EC P-384 and Ed25519", () => {
    const crlf = `subject=CN = example.com\r\n${leaf.certPem.replaceAll("\n", "\r\n")}\r\n${inter.certPem}`;
    expect(inspectUpload({ chainPem: crlf, keyPem: leaf.keyPem.replaceAll("\n", "\r\n") }).names).toContain(
      "example.com",
    );
    const rsa = pki.issue({ cn: "rsa.example.com", dns: ["rsa.example.com"], kind: "rsa2048" });
    const traditional = execFileSync("openssl", ["rsa", "-in", rsa.keyFile, "-traditional"], {
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    expect(traditional).toContain("BEGIN RSA PRIVATE KEY");
    const r = inspectUpload({ chainPem: rsa.certPem, keyPem: traditional });
    expect(r.keyType).toBe("RSA 2048");
    expect(r.keyPem).toContain("BEGIN PRIVATE KEY");
    const p384 = pki.issue({ cn: "a", dns: ["a.example.com"], kind: "ec384" });
    expect(inspectUpload({ chainPem: p384.certPem, keyPem: p384.keyPem }).keyType).toBe("EC P-384");
    const ed = pki.issue({ cn: "ed", dns: ["ed.example.com"], kind: "ed25519" });
    expect(inspectUpload({ chainPem: ed.certPem, keyPem: ed.keyPem }).keyType).toBe("Ed25519");
  });

  it("refuses an expired certificate and one not yet valid, naming the chain field", () => {
    const expired = pki.issue({
      cn: "old",
      dns: ["old.example.com"],
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2020-02-01T00:00:00Z"),
    });
    expect(refusal({ chainPem: expired.certPem, keyPem: expired.keyPem })).toMatchObject({
      code: "CERTIFICATE_EXPIRED",
      fields: ["chainPem"],
      message: "The certificate expired on 2020-02-01T00:00:00.000Z.",
    });
    const future = pki.issue({
      cn: "new",
      dns: ["new.example.com"],
      notBefore: new Date(Date.now() + 10 * 86_400_000),
      notAfter: new Date(Date.now() + 100 * 86_400_000),
    });
    expect(refusal({ chainPem: future.certPem, keyPem: future.keyPem })).toMatchObject({
      code: "CERTIFICATE_NOT_YET_VALID",
      fields: ["chainPem"],
    });
    // An expired intermediate is refused too, and named.
    const oldInter = pki.issue({
      cn: "Old Intermediate",
      ca: true,
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2020-02-01T00:00:00Z"),
    });
    const under = pki.issue({ cn: "u", dns: ["u.example.com"], issuer: oldInter });
    expect(refusal({ chainPem: under.certPem + oldInter.certPem, keyPem: under.keyPem }).message).toContain(
      'The chain\'s certificate "CN=Old Intermediate" expired',
    );
  });

  it("refuses a key that belongs to another certificate, naming the key field", () => {
    const other = pki.key("ec256");
    expect(refusal({ chainPem: leaf.certPem, keyPem: other.keyPem })).toMatchObject({
      code: "CERTIFICATE_KEY_MISMATCH",
      fields: ["keyPem"],
    });
  });

  it("refuses a chain with a certificate that does not link to the leaf", () => {
    const stranger = new TestPki();
    try {
      expect(refusal({ chainPem: leaf.certPem + stranger.root.certPem, keyPem: leaf.keyPem })).toMatchObject({
        code: "CERTIFICATE_CHAIN_BROKEN",
        fields: ["chainPem"],
      });
      // Two leaves: the one the key does not match has no place in the chain.
      const second = pki.issue({ cn: "b", dns: ["b.example.com"] });
      expect(refusal({ chainPem: second.certPem + leaf.certPem, keyPem: leaf.keyPem }).code).toBe(
        "CERTIFICATE_CHAIN_BROKEN",
      );
    } finally {
      stranger.close();
    }
  });

  it("refuses RSA under 2048 bits and curves other than P-256/P-384", () => {
    const weak = pki.issue({ cn: "w", dns: ["w.example.com"], kind: "rsa1024" });
    expect(refusal({ chainPem: weak.certPem, keyPem: weak.keyPem })).toMatchObject({
      code: "CERTIFICATE_KEY_TYPE",
      fields: ["keyPem"],
      message: "RSA keys need at least 2048 bits; this one has 1024.",
    });
    const p521 = pki.issue({ cn: "p", dns: ["p.example.com"], kind: "ec521" });
    expect(refusal({ chainPem: p521.certPem, keyPem: p521.keyPem }).code).toBe("CERTIFICATE_KEY_TYPE");
  });

  it("refuses names SNI cannot match", () => {
    const odd = pki.issue({ cn: "odd", dns: ["under_score.example.com"] });
    expect(refusal({ chainPem: odd.certPem, keyPem: odd.keyPem })).toMatchObject({
      code: "CERTIFICATE_NAME_INVALID",
      fields: ["chainPem"],
    });
  });

  it("refuses hostile and malformed PEM with the field named", () => {
    const body = leaf.certPem.split("\n").slice(1, -2).join("\n");
    const encrypted = path.join(pki.dir, "enc.pem");
    execFileSync("openssl", [
      ...["pkcs8", "-topk8", "-in", leaf.keyFile, "-out", encrypted],
      ...["-v2", "aes-256-cbc", "-passout", "pass:secret"],
    ]);
    const encryptedPem = execFileSync("cat", [encrypted]).toString();
    const legacy = leaf.keyPem.replace(
      "-----BEGIN PRIVATE KEY-----\n",
      "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n",
    );
    const cases: Array<[string, { chainPem: string; keyPem: string }, string, string]> = [
      ["no PEM", { chainPem: "hello", keyPem: leaf.keyPem }, "CERTIFICATE_PEM_INVALID", "chainPem"],
      [
        "a key in the chain field",
        { chainPem: leaf.keyPem, keyPem: leaf.keyPem },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "no END line",
        { chainPem: leaf.certPem.replace(/-----END.*\n$/, ""), keyPem: leaf.keyPem },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "not base64",
        {
          chainPem: `-----BEGIN CERTIFICATE-----\n$(id);<script>\n-----END CERTIFICATE-----\n`,
          keyPem: leaf.keyPem,
        },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "base64 that is not X.509",
        {
          chainPem: `-----BEGIN CERTIFICATE-----\n${Buffer.from("not a certificate").toString("base64")}\n-----END CERTIFICATE-----\n`,
          keyPem: leaf.keyPem,
        },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "a truncated certificate",
        {
          chainPem: `-----BEGIN CERTIFICATE-----\n${body.slice(0, 100)}\n-----END CERTIFICATE-----\n`,
          keyPem: leaf.keyPem,
        },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "a stray armour line",
        { chainPem: `-----BOGUS-----\n${leaf.certPem}`, keyPem: leaf.keyPem },
        "CERTIFICATE_PEM_INVALID",
        "chainPem",
      ],
      [
        "an encrypted PKCS#8 key",
        { chainPem: leaf.certPem, keyPem: encryptedPem },
        "CERTIFICATE_PEM_INVALID",
        "keyPem",
      ],
      [
        "a legacy encrypted key (headers)",
        { chainPem: leaf.certPem, keyPem: legacy },
        "CERTIFICATE_PEM_INVALID",
        "keyPem",
      ],
      [
        "two keys",
        { chainPem: leaf.certPem, keyPem: leaf.keyPem + leaf.keyPem },
        "CERTIFICATE_PEM_INVALID",
        "keyPem",
      ],
      [
        "a certificate in the key field",
        { chainPem: leaf.certPem, keyPem: leaf.certPem },
        "CERTIFICATE_PEM_INVALID",
        "keyPem",
      ],
    ];
    for (const [what, input, code, field] of cases) {
      expect(refusal(input), what).toMatchObject({ code, fields: [field] });
    }
    expect(refusal(cases[7]![1]).message).toContain("openssl pkey");
  });
});

describe("key encryption at rest", () => {
  const ring = keyRing("first-secret-first-secret-first-secret-0123");
  it("round-trips, and refuses a changed byte or another certificate's ciphertext", () => {
    const { ciphertext, keyId } = encryptPrivateKey(ring, leaf.keyPem, keyAad("a"));
    expect(Buffer.from(ciphertext).toString("latin1")).not.toContain("PRIVATE KEY");
    expect(decryptPrivateKey(ring, ciphertext, keyId, keyAad("a"))).toBe(leaf.keyPem);
    const flipped = Uint8Array.from(ciphertext);
    flipped[40] = flipped[40]! ^ 1;
    expect(() => decryptPrivateKey(ring, flipped, keyId, keyAad("a"))).toThrow(KeyDecryptionError);
    expect(() => decryptPrivateKey(ring, ciphertext, keyId, keyAad("b"))).toThrow(KeyDecryptionError);
  });

  it("reads a previous secret's ciphertext only while that secret is listed", () => {
    const { ciphertext, keyId } = encryptPrivateKey(ring, leaf.keyPem, keyAad("a"));
    const rotated = keyRing("second-secret-second-secret-second-secret-0", [
      "first-secret-first-secret-first-secret-0123",
    ]);
    expect(rotated.current.id).not.toBe(keyId);
    expect(decryptPrivateKey(rotated, ciphertext, keyId, keyAad("a"))).toBe(leaf.keyPem);
    const forgotten = keyRing("second-secret-second-secret-second-secret-0");
    expect(() => decryptPrivateKey(forgotten, ciphertext, keyId, keyAad("a"))).toThrow(
      /FULCRUM_PREVIOUS_SECRETS/,
    );
  });
});

describe("certificates through the API", () => {
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let viewer: ReturnType<typeof callerAs>;
  let clusterId: string;
  let poolId: string;

  beforeAll(async () => {
    c = await startTestConsole();
    op = callerAs(c, actors.operator);
    viewer = callerAs(c, actors.viewer);
    clusterId = (await op.cluster.create({ name: "tls" })).id;
    poolId = (await op.pool.create({ clusterId, name: "web" })).id;
    await op.backend.create({ poolId, address: "127.0.0.1", port: 9000 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  const versions = () => c.services.prisma.configVersion.count({ where: { clusterId } });
  const latest = async () =>
    (await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    }))!;
  const keyBody = (pem: string) => pem.split("\n").slice(1, -2).join("");

  it("uploads: no key in any answer, none in plain text in the database, no new config version for an unused certificate", async () => {
    const before = await versions();
    const up = await op.certificate.upload({
      clusterId,
      name: "example",
      chainPem: inter.certPem + leaf.certPem,
      keyPem: leaf.keyPem,
    });
    expect(Object.keys(up)).not.toContain("keyCiphertext");
    expect(JSON.stringify(up)).not.toContain("PRIVATE KEY");
    expect(up).toMatchObject({
      names: ["*.example.com", "example.com"],
      keyType: "EC P-256",
      source: "upload",
    });
    const listed = await viewer.certificate.list({ clusterId });
    expect(listed).toHaveLength(1);
    expect(listed[0]!.usedBy).toEqual([]);
    expect(JSON.stringify(listed)).not.toContain("PRIVATE KEY");
    expect(JSON.stringify(await viewer.certificate.get({ id: up.id }))).not.toContain("PRIVATE KEY");
    expect(await versions()).toBe(before);
    const row = await c.services.prisma.certificate.findUniqueOrThrow({ where: { id: up.id } });
    const stored = Buffer.from(row.keyCiphertext).toString("latin1");
    expect(stored).not.toContain("PRIVATE KEY");
    expect(stored).not.toContain(keyBody(leaf.keyPem).slice(0, 20));
    const audit = await c.services.prisma.auditEntry.findMany({ where: { targetId: up.id } });
    expect(audit.map((a) => a.action)).toEqual(["certificate.upload"]);
    expect(JSON.stringify(audit)).toContain(up.fingerprint);
    expect(JSON.stringify(audit)).not.toContain("PRIVATE KEY");
  });

  it("/metrics has the seconds to expiry of each certificate", async () => {
    const text = await (await fetch(`${c.url}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith('fulcrum_certificate_expiry_seconds{certificate="example",cluster="tls"}'));
    const seconds = Number(line?.split(" ")[1]);
    const expected = (new Date(new X509Certificate(leaf.certPem).validTo).getTime() - Date.now()) / 1000;
    expect(Math.abs(seconds - expected)).toBeLessThan(120);
    expect(text).toContain("# TYPE fulcrum_certificate_expiry_seconds gauge");
  });

  it("refuses a bad upload with the field named, and changes nothing", async () => {
    const other = pki.key("ec256");
    const f = await failure(
      op.certificate.upload({ clusterId, name: "mismatch", chainPem: leaf.certPem, keyPem: other.keyPem }),
    );
    expect(f.code).toBe("BAD_REQUEST");
    expect(Object.keys(f.fieldErrors)).toEqual(["keyPem"]);
    const big = await failure(
      op.certificate.upload({
        clusterId,
        name: "big",
        chainPem: "A".repeat(64 * 1024 + 1),
        keyPem: leaf.keyPem,
      }),
    );
    expect(Object.keys(big.fieldErrors)).toEqual(["chainPem"]);
    expect((await op.certificate.list({ clusterId })).map((x) => x.name)).toEqual(["example"]);
  });

  it("a TLS listener puts the certificate in the snapshot by reference; the agent's frame carries the key next to it", async () => {
    const [cert] = await op.certificate.list({ clusterId });
    const listener = await op.listener.create({
      clusterId,
      name: "https",
      port: 8443,
      tls: { certificateIds: [cert!.id], defaultCertificateId: cert!.id, hsts: { maxAgeSeconds: 600 } },
    });
    await op.route.create({ listenerId: listener.id, poolId, host: "www.example.com" });
    const v = await latest();
    const snap = v.snapshot as unknown as Snapshot;
    expect(snap.certificates).toEqual([
      {
        id: cert!.id,
        fingerprint: cert!.fingerprint,
        names: ["*.example.com", "example.com"],
        notAfter: cert!.notAfter.toISOString(),
      },
    ]);
    const l = snap.listeners.find((x) => x.name === "https")!;
    expect(l.protocol === "http" && l.tls).toMatchObject({
      certificateIds: [cert!.id],
      unknownName: "default",
      minVersion: "TLSv1.2",
      hsts: { maxAgeSeconds: 600, includeSubDomains: false, preload: false },
      alpn: ["http/1.1"],
    });
    const stored = JSON.stringify(await c.services.prisma.configVersion.findMany({ where: { clusterId } }));
    expect(stored).not.toContain("PRIVATE KEY");
    expect(JSON.stringify(await c.services.prisma.auditEntry.findMany())).not.toContain("PRIVATE KEY");

    const used = (await viewer.certificate.list({ clusterId }))[0]!.usedBy;
    expect(used).toEqual([
      {
        listenerId: listener.id,
        listenerName: "https",
        port: 8443,
        hosts: ["www.example.com"],
        isDefault: true,
      },
    ]);

    // The gateway's frame: decrypted material next to the snapshot, matching its fingerprints.
    const frames = new SnapshotFrames(
      async () => snap,
      (s) => loadTlsMaterial(c.services.prisma, c.services.keys, s),
    );
    const decoded = decodeConsoleMessage((await frames.get(clusterId)).frame);
    if (!decoded.ok || decoded.message.type !== "snapshot") throw new Error("not a snapshot frame");
    const material = decoded.message.payload.tlsMaterial ?? [];
    expect(material).toHaveLength(1);
    expect(material[0]!.fingerprint).toBe(cert!.fingerprint);
    expect(keyBody(material[0]!.keyPem)).toBe(
      keyBody(inspectUpload({ chainPem: leaf.certPem, keyPem: leaf.keyPem }).keyPem),
    );
    expect(missingTlsMaterial(decoded.message.payload.snapshot, material)).toEqual([]);
  });

  it("refuses TLS on a tcp listener and a certificate of another cluster, with the field named", async () => {
    const [cert] = await op.certificate.list({ clusterId });
    const tls = { certificateIds: [cert!.id], defaultCertificateId: cert!.id };
    const tcp = await failure(op.listener.create({ clusterId, name: "t", protocol: "tcp", port: 9443, tls }));
    expect(Object.keys(tcp.fieldErrors)).toContain("tls");
    const otherCluster = (await op.cluster.create({ name: "other" })).id;
    const foreign = await failure(op.listener.create({ clusterId: otherCluster, name: "x", port: 443, tls }));
    expect(foreign.code).toBe("UNPROCESSABLE_CONTENT");
    expect(foreign.message).toContain("not in the snapshot");
    const notListed = await failure(
      op.listener.create({
        clusterId,
        name: "y",
        port: 8444,
        tls: { certificateIds: [cert!.id], defaultCertificateId: otherCluster },
      }),
    );
    expect(Object.keys(notListed.fieldErrors)).toContain("tls.defaultCertificateId");
  });

  it("redirectToHttps: stored on a plain http listener and in its snapshot; refused with TLS, on tcp and with a bad port, under its field", async () => {
    const [cert] = await op.certificate.list({ clusterId });
    const tls = { certificateIds: [cert!.id], defaultCertificateId: cert!.id };
    const redirect = { redirectToHttps: { status: 301, port: 8443 } };
    const before = await versions();
    const withTls = await failure(
      op.listener.create({ clusterId, name: "both", port: 8081, settings: redirect, tls }),
    );
    expect(withTls.fieldErrors["settings.redirectToHttps"]).toContain("does not redirect");
    const tcp = await failure(
      op.listener.create({ clusterId, name: "t", protocol: "tcp", port: 8082, settings: redirect }),
    );
    expect(tcp.fieldErrors["settings.redirectToHttps"]).toBe("Only HTTP listeners redirect to HTTPS.");
    const badPort = await failure(
      op.listener.create({
        clusterId,
        name: "p",
        port: 8083,
        settings: { redirectToHttps: { status: 302, port: Number.NaN } },
      }),
    );
    expect(badPort.fieldErrors).toMatchObject({
      "settings.redirectToHttps.port": "Enter the HTTPS port.",
      "settings.redirectToHttps.status": "Choose 301 or 308.",
    });
    expect(await versions()).toBe(before);

    const plain = await op.listener.create({ clusterId, name: "plain", port: 8080, settings: redirect });
    const snap = (await latest()).snapshot as unknown as Snapshot;
    const l = snap.listeners.find((x) => x.id === plain.id)!;
    expect(l.protocol === "http" && l.settings.redirectToHttps).toEqual({ status: 301, port: 8443 });
    await op.listener.delete({ id: plain.id });
  });

  it("replacing the certificate (renewal) makes a new version whose diff shows the fingerprints", async () => {
    const [cert] = await op.certificate.list({ clusterId });
    const renewed = pki.issue({ cn: "example.com", dns: ["example.com", "*.example.com"], issuer: inter });
    const before = (await latest()).version;
    const after = await op.certificate.replace({
      id: cert!.id,
      chainPem: renewed.certPem,
      keyPem: renewed.keyPem,
    });
    expect(after.fingerprint).not.toBe(cert!.fingerprint);
    const v = await latest();
    expect(v.version).toBe(before + 1);
    const diff = await viewer.config.diff({ clusterId, version: v.version });
    expect(diff).toContainEqual({
      change: "changed",
      object: `certificate *.example.com (${cert!.id})`,
      field: "fingerprint",
      before: cert!.fingerprint,
      after: after.fingerprint,
    });
    expect(JSON.stringify(diff)).not.toContain("PRIVATE KEY");
  });

  it("refuses to delete a certificate a listener uses; after TLS is turned off it goes", async () => {
    const [cert] = await op.certificate.list({ clusterId });
    const f = await failure(op.certificate.delete({ id: cert!.id }));
    expect(f.code).toBe("CONFLICT");
    expect(f.message).toContain("listener https");
    const https = (await op.listener.list({ clusterId })).find((l) => l.name === "https")!;
    await op.listener.update({ id: https.id, tls: null });
    const snap = (await latest()).snapshot as unknown as Snapshot;
    expect(snap.certificates).toEqual([]);
    const l = snap.listeners.find((x) => x.name === "https")!;
    expect("tls" in l).toBe(false);
    await op.certificate.delete({ id: cert!.id });
    expect(await op.certificate.list({ clusterId })).toEqual([]);
  });

  it("after the secret is rotated, keys under the previous one are re-encrypted with the new one", async () => {
    const up = await op.certificate.upload({
      clusterId,
      name: "rotate",
      chainPem: leaf.certPem,
      keyPem: leaf.keyPem,
    });
    const newSecret = "rotated-secret-rotated-secret-rotated-secret";
    const rotated = keyRing(newSecret, ["test-secret-test-secret-test-secret-0123456789"]);
    expect(await reencryptCertificateKeys(c.services.prisma, rotated)).toEqual({
      reencrypted: 1,
      unreadable: [],
    });
    const row = await c.services.prisma.certificate.findUniqueOrThrow({ where: { id: up.id } });
    expect(row.encryptionKeyId).toBe(rotated.current.id);
    const onlyNew = keyRing(newSecret);
    expect(decryptPrivateKey(onlyNew, row.keyCiphertext, row.encryptionKeyId, keyAad(up.id))).toContain(
      "PRIVATE KEY",
    );
    // Without the previous secret a key cannot be read: reported, left as is.
    expect(
      await reencryptCertificateKeys(c.services.prisma, keyRing("yet-another-secret-yet-another-secret-00")),
    ).toEqual({
      reencrypted: 0,
      unreadable: ["rotate"],
    });
  });
});
