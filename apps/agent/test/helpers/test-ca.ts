import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CaBundleMaterial, SnapshotCaBundle } from "@fulcrum/protocol";
import type { TestCertificate } from "./certs";

/** A private CA made by the openssl CLI, signing server and client certificates (ECDSA P-256). */
export interface TestCa {
  /** The CA certificate's PEM: what a CA bundle upload holds. */
  readonly pem: string;
  /** The bundle as the snapshot names it and as the snapshot message carries it. */
  bundle(id: string): { ref: SnapshotCaBundle; material: CaBundleMaterial };
  /** A leaf for `sans` ("DNS:x" or "IP:x"), with its key in PKCS#8 (what the console sends). */
  sign(id: string, cn: string, sans: readonly string[], usage: "serverAuth" | "clientAuth"): TestCertificate;
  dispose(): void;
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });

export function makeTestCa(name: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-ca-"));
  const caKey = join(dir, "ca.key");
  const caPem = join(dir, "ca.pem");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    caPem,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const pem = readFileSync(caPem, "utf8");
  let serial = 1;
  return {
    pem,
    bundle(id) {
      const fingerprint = createHash("sha256").update(pem, "utf8").digest("hex");
      return { ref: { id, fingerprint }, material: { id, fingerprint, pem } };
    },
    sign(id, cn, sans, usage) {
      const key = join(dir, `${id}.key`);
      const csr = join(dir, `${id}.csr`);
      const cert = join(dir, `${id}.pem`);
      const ext = join(dir, `${id}.ext`);
      writeFileSync(ext, `subjectAltName=${sans.join(",")}\nextendedKeyUsage=${usage}\n`);
      openssl(["req", "-new", ...ec, "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`]);
      openssl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caPem,
        "-CAkey",
        caKey,
        "-set_serial",
        String(serial++),
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        cert,
      ]);
      const chainPem = readFileSync(cert, "utf8");
      const keyPem = readFileSync(key, "utf8");
      const x = new X509Certificate(chainPem);
      const fingerprint = createHash("sha256").update(x.raw).digest("hex");
      const names = sans.filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
      return {
        ref: { id, fingerprint, names, notAfter: new Date(x.validTo).toISOString() },
        material: { id, fingerprint, chainPem, keyPem },
      };
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
