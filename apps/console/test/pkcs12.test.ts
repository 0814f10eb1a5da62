import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertificateUploadError } from "../src/server/domain/certificates/errors";
import { inspectUpload } from "../src/server/domain/certificates/inspect";
import { inspectPkcs12Upload } from "../src/server/domain/certificates/pkcs12-upload";
import { actors, callerAs, failure, startTestConsole, type TestConsole } from "./support/console";
import { type Issued, TestPki } from "./test-pki";

/*
 * PKCS#12 uploads made by the real `openssl pkcs12 -export`: the OpenSSL 3
 * default (PBES2 AES-256, SHA-256 MAC) and `-legacy` (RC2-40 / 3DES, SHA-1
 * MAC) both give the same chain and key as the PEM upload; each refusal
 * names its field; hostile bytes give a refusal, never a crash or a hang.
 */

let pki: TestPki;
let inter: Issued;
let rsaLeaf: Issued;
let ecLeaf: Issued;
let n = 0;
beforeAll(() => {
  pki = new TestPki();
  inter = pki.issue({ cn: "Fulcrum Test Intermediate", ca: true });
  rsaLeaf = pki.issue({ cn: "rsa.example.com", dns: ["rsa.example.com"], kind: "rsa2048", issuer: inter });
  ecLeaf = pki.issue({ cn: "ec.example.com", dns: ["ec.example.com"], issuer: inter });
});
afterAll(() => pki?.close());

/** `openssl pkcs12 -export` of `leaf` (with its key unless `-nokeys`) and the intermediate. */
function exportP12(leaf: Issued, password: string, ...args: string[]): Buffer {
  const out = path.join(pki.dir, `export-${++n}.p12`);
  const withKey = args.includes("-nokeys") ? [] : ["-inkey", leaf.keyFile];
  execFileSync(
    "openssl",
    [
      "pkcs12",
      "-export",
      "-in",
      leaf.certFile,
      "-certfile",
      inter.certFile,
      ...withKey,
      "-out",
      out,
      "-passout",
      `pass:${password}`,
      ...args,
    ],
    { stdio: "pipe" },
  );
  return readFileSync(out);
}

/** What a PKCS#12 upload is refused with: the error's code and the fields it names. */
function refusal(der: Buffer, password: string) {
  try {
    inspectPkcs12Upload({ pkcs12: der.toString("base64"), password });
  } catch (e) {
    if (!(e instanceof CertificateUploadError)) throw e;
    return { code: e.code, fields: Object.keys(e.fieldErrors ?? {}), message: e.message };
  }
  throw new Error("expected the upload to be refused");
}

describe("PKCS#12 uploads (files from openssl pkcs12 -export)", () => {
  it("the OpenSSL 3 default (AES-256) and -legacy (RC2/3DES) give the same certificate as the PEM upload", () => {
    for (const leaf of [rsaLeaf, ecLeaf]) {
      const pem = inspectUpload({ chainPem: inter.certPem + leaf.certPem, keyPem: leaf.keyPem });
      for (const legacy of [false, true]) {
        const der = exportP12(leaf, "s3cret pass", ...(legacy ? ["-legacy"] : []));
        // The files really are of both kinds (openssl prints the algorithms on stderr).
        const info = spawnSync(
          "openssl",
          ["pkcs12", "-info", "-noout", "-passin", "pass:s3cret pass", ...(legacy ? ["-legacy"] : [])],
          { input: der },
        ).stderr.toString();
        expect(info).toContain(legacy ? "pbeWithSHA1And40BitRC2-CBC" : "AES-256-CBC");
        const got = inspectPkcs12Upload({ pkcs12: der.toString("base64"), password: "s3cret pass" });
        expect(got.fingerprint).toBe(pem.fingerprint);
        expect(got.chainPem).toBe(pem.chainPem);
        expect(got.keyType).toBe(pem.keyType);
        expect(got.keyPem).toBe(pem.keyPem);
      }
    }
  });

  it("names the field of each refusal: wrong password, no key, several keys, expired, too much work", () => {
    for (const args of [[], ["-legacy"]]) {
      expect(refusal(exportP12(ecLeaf, "right", ...args), "wrong")).toMatchObject({
        code: "CERTIFICATE_PKCS12_PASSWORD",
        fields: ["password"],
        message: expect.stringMatching(/wrong password/i),
      });
    }
    expect(refusal(exportP12(ecLeaf, "pw", "-nokeys"), "pw")).toMatchObject({
      code: "CERTIFICATE_PKCS12_INVALID",
      fields: ["pkcs12"],
      message: expect.stringMatching(/no private key in the file/i),
    });
    expect(refusal(twoKeys(), "pw")).toMatchObject({
      code: "CERTIFICATE_PKCS12_INVALID",
      fields: ["pkcs12"],
      message: expect.stringMatching(/more than one key/i),
    });
    const expired = pki.issue({
      issuer: inter,
      cn: "old.example.com",
      dns: ["old.example.com"],
      notBefore: new Date(Date.now() - 20 * 86_400_000),
      notAfter: new Date(Date.now() - 10 * 86_400_000),
    });
    // The PEM checks' refusal, under the file's field (the form has no chain field in this mode).
    expect(refusal(exportP12(expired, "pw"), "pw")).toMatchObject({
      code: "CERTIFICATE_EXPIRED",
      fields: ["pkcs12"],
    });
    // A file asking for a million PBKDF2 rounds per encryption is refused before any is run.
    expect(refusal(exportP12(ecLeaf, "pw", "-iter", "1000000"), "pw")).toMatchObject({
      code: "CERTIFICATE_PKCS12_INVALID",
      fields: ["pkcs12"],
      message: expect.stringMatching(/1000000 key-derivation rounds/),
    });
    // Each within the bound, together past the file's budget: MAC and two encryptions at 24,000.
    expect(refusal(exportP12(ecLeaf, "pw", "-legacy", "-maciter", "-iter", "24000"), "pw")).toMatchObject({
      code: "CERTIFICATE_PKCS12_INVALID",
      fields: ["pkcs12"],
      message: expect.stringMatching(/in all/),
    });
  });

  it("hostile bytes: random files and corrupted real ones are refused with a PKCS#12 error, never a crash", () => {
    const real = exportP12(rsaLeaf, "pw");
    const legacy = exportP12(ecLeaf, "pw", "-legacy");
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      let der: Buffer;
      if (i % 3 === 0) der = randomBytes(1 + (i % 2000));
      else {
        der = Buffer.from(i % 2 ? real : legacy);
        // A few random bytes changed, or the file cut short.
        for (let k = 0; k < 1 + (i % 4); k++)
          der[Math.floor(Math.random() * der.length)] = Math.floor(Math.random() * 256);
        if (i % 5 === 0) der = der.subarray(0, Math.floor(Math.random() * der.length) + 1);
      }
      const r = refusalOrNull(der);
      if (r) codes.add(r);
    }
    // Refusals come from our error classes (refusal() rethrows anything else).
    expect([...codes].every((c) => c.startsWith("CERTIFICATE_"))).toBe(true);
    expect(codes.has("CERTIFICATE_PKCS12_INVALID")).toBe(true);
  });
});

/** A corrupted file may still open (a changed byte in a signature): null then; else the refusal's code. */
function refusalOrNull(der: Buffer): string | null {
  try {
    inspectPkcs12Upload({ pkcs12: der.toString("base64"), password: "pw" });
    return null;
  } catch (e) {
    if (!(e instanceof CertificateUploadError)) throw e;
    return e.code;
  }
}

/**
 * A PKCS#12 file with two keys: openssl exports one, so two files' (RSA, no
 * MAC) SafeContents are joined under one AuthenticatedSafe with node-forge.
 */
function twoKeys(): Buffer {
  const other = pki.issue({ cn: "other.example.com", dns: ["other.example.com"], kind: "rsa2048" });
  const one = (leaf: Issued) =>
    forge.pkcs12.toPkcs12Asn1(
      forge.pki.privateKeyFromPem(leaf.keyPem),
      [forge.pki.certificateFromPem(leaf.certPem)],
      "pw",
      { useMac: false, algorithm: "3des" },
    );
  const contentsOf = (pfx: forge.asn1.Asn1) => {
    const authSafe = (pfx.value as forge.asn1.Asn1[])[1]!;
    const octets = ((authSafe.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!;
    return { octets, seq: forge.asn1.fromDer(octets.value as string) };
  };
  const a = one(rsaLeaf);
  const b = contentsOf(one(other));
  const target = contentsOf(a);
  (target.seq.value as forge.asn1.Asn1[]).push(...(b.seq.value as forge.asn1.Asn1[]));
  target.octets.value = forge.asn1.toDer(target.seq).getBytes();
  return Buffer.from(forge.asn1.toDer(a).getBytes(), "binary");
}

describe("certificate.uploadPkcs12 through the API", () => {
  let c: TestConsole;
  let clusterId: string;
  beforeAll(async () => {
    c = await startTestConsole();
    clusterId = (await callerAs(c, actors.operator).cluster.create({ name: "p12" })).id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("stores the certificate from a base64 file, and refuses a wrong password under its field", async () => {
    const op = callerAs(c, actors.operator);
    const der = exportP12(ecLeaf, "pw");
    const created = await op.certificate.uploadPkcs12({
      clusterId,
      name: "from-p12",
      pkcs12: der.toString("base64"),
      password: "pw",
    });
    expect(created.names).toEqual(["ec.example.com"]);
    const listed = await op.certificate.list({ clusterId });
    expect(listed.map((x) => x.fingerprint)).toContain(created.fingerprint);
    const wrong = await failure(
      op.certificate.uploadPkcs12({
        clusterId,
        name: "wrong",
        pkcs12: der.toString("base64"),
        password: "nope",
      }),
    );
    expect(wrong.fieldErrors).toEqual({ password: expect.stringMatching(/wrong password/i) });
    const big = await failure(
      op.certificate.uploadPkcs12({ clusterId, name: "big", pkcs12: "A".repeat(100_000), password: "" }),
    );
    expect(Object.keys(big.fieldErrors ?? {})).toEqual(["pkcs12"]);
  });
});
