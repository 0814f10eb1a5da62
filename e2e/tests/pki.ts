import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Certificates the browser tests upload, made by openssl (node:crypto cannot sign X.509). */

export interface PemPair {
  certPem: string;
  keyPem: string;
  /** sha256 of the certificate, lower-case hex without colons (as the console shows it). */
  fingerprint: string;
}

function selfSigned(subject: string, extensions: string[]): PemPair {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
        ...["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", "30"],
        ...["-subj", subject, ...extensions.flatMap((e) => ["-addext", e])],
      ],
      { stdio: "pipe" },
    );
    const certPem = readFileSync(path.join(dir, "cert.pem"), "utf8");
    return {
      certPem,
      keyPem: readFileSync(path.join(dir, "key.pem"), "utf8"),
      fingerprint: new X509Certificate(certPem).fingerprint256.replace(/:/g, "").toLowerCase(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed EC P-256 server certificate for `cn` (its only DNS name). */
export function makeCertificate(cn: string): PemPair {
  return selfSigned(`/CN=${cn}`, [`subjectAltName=DNS:${cn}`]);
}

/** A self-signed EC P-256 CA certificate named `cn`, as a Trusted CAs bundle holds. */
export function makeCa(cn: string): PemPair {
  return selfSigned(`/CN=${cn}`, [
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}
