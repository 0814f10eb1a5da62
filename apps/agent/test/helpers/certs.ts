import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SnapshotCertificate, TlsMaterial } from "@fulcrum/protocol";

export interface TestCertificate {
  /** As the snapshot names it (no key material). */
  readonly ref: SnapshotCertificate;
  /** As the snapshot message carries it. */
  readonly material: TlsMaterial;
}

/**
 * A self-signed ECDSA P-256 (or RSA 2048) certificate for `names` (DNS SANs, wildcards
 * allowed), made by the openssl CLI as an operator would, with its key in
 * PKCS#8 (what the console sends).
 */
export function makeCertificate(
  id: string,
  names: readonly string[],
  days = 2,
  keyType: "ec" | "rsa" = "ec",
): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-cert-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        ...(keyType === "ec" ? ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["rsa:2048"]),
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        String(days),
        "-subj",
        `/CN=${names[0] ?? id}`,
        "-addext",
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
      ],
      { stdio: "ignore" },
    );
    const chainPem = readFileSync(cert, "utf8");
    const keyPem = readFileSync(key, "utf8");
    const x = new X509Certificate(chainPem);
    const fingerprint = createHash("sha256").update(x.raw).digest("hex");
    return {
      ref: { id, fingerprint, names: [...names], notAfter: new Date(x.validTo).toISOString() },
      material: { id, fingerprint, chainPem, keyPem },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** sha256 hex of a peer certificate's DER, as a TLS client sees it. */
export const fingerprintOf = (raw: Buffer) => createHash("sha256").update(raw).digest("hex");
