import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/*
 * The demo's HTTPS certificate: a local CA made at the first start and a certificate for
 * localhost, 127.0.0.1 and ::1 signed by it, kept in ./.fulcrum/demo-tls (0700).
 * node:crypto reads X.509 but cannot sign it, so the openssl CLI makes them
 * (scripts/lib/ensure-tools.sh installs it when missing).
 */

export interface DemoTls {
  dir: string;
  /** The CA to trust: `curl --cacert <caFile>`, or import it into a browser or the OS store. */
  caFile: string;
  caPem: string;
  /** The leaf only: clients that trust the CA need nothing between. */
  chainPem: string;
  keyPem: string;
  /** sha256 of the leaf, lower-case hex without colons (as the console shows it). */
  fingerprint: string;
}

/** The names the leaf is good for: what the traffic generator and people on this machine use. */
export const DEMO_TLS_NAMES = { dns: ["localhost"], ips: ["127.0.0.1", "::1"] } as const;

const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** A leaf this close to its end is made again (the console refuses expired ones). */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * The CA may only vouch for this machine's names: its key sits in a directory on disk, and
 * someone who trusts it in a browser should not thereby trust it for every site.
 */
const NAME_CONSTRAINTS =
  "nameConstraints=critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0," +
  "permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF";

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: "pipe" });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") {
      throw new Error("openssl is needed to make the demo's HTTPS certificate (apt-get install openssl)");
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

function newKey(file: string): void {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  chmodSync(file, 0o600);
}

function makeCa(keyFile: string, certFile: string): void {
  newKey(keyFile);
  openssl([
    ...["req", "-x509", "-new", "-key", keyFile, "-days", String(CA_DAYS), "-out", certFile],
    ...["-subj", "/O=Fulcrum demo/CN=Fulcrum demo CA (this machine only)"],
    ...["-addext", "basicConstraints=critical,CA:TRUE,pathlen:0"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ...["-addext", NAME_CONSTRAINTS],
  ]);
}

function makeLeaf(dir: string, ca: { keyFile: string; certFile: string }, keyFile: string, certFile: string) {
  newKey(keyFile);
  const csr = path.join(dir, "localhost.csr");
  const ext = path.join(dir, "localhost.ext");
  const san = [...DEMO_TLS_NAMES.dns.map((d) => `DNS:${d}`), ...DEMO_TLS_NAMES.ips.map((i) => `IP:${i}`)];
  writeFileSync(
    ext,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${san.join(",")}`,
      "",
    ].join("\n"),
  );
  openssl(["req", "-new", "-key", keyFile, "-subj", "/CN=localhost", "-out", csr]);
  openssl([
    ...["x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial"],
    ...["-days", String(LEAF_DAYS), "-sha256", "-extfile", ext, "-out", certFile],
  ]);
  rmSync(csr);
  rmSync(ext);
}

/** The leaf is usable: signed by this CA and not near its end. */
function leafIsGood(certFile: string, caPem: string): boolean {
  if (!existsSync(certFile)) return false;
  const leaf = new X509Certificate(readFileSync(certFile));
  const ca = new X509Certificate(caPem);
  return (
    leaf.checkIssued(ca) &&
    leaf.verify(ca.publicKey) &&
    Date.parse(leaf.validTo) - Date.now() > RENEW_BEFORE_MS
  );
}

/** Makes the demo CA and localhost certificate in `dir` once; later starts reuse them (a new leaf near expiry). */
export function ensureDemoTls(dir: string): DemoTls {
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // An existing directory keeps its mode under mkdir: the keys are in it.
  chmodSync(dir, 0o700);
  const ca = { keyFile: path.join(dir, "ca.key"), certFile: path.join(dir, "ca.pem") };
  if (!existsSync(ca.keyFile) || !existsSync(ca.certFile)) makeCa(ca.keyFile, ca.certFile);
  const caPem = readFileSync(ca.certFile, "utf8");
  const keyFile = path.join(dir, "localhost.key");
  const certFile = path.join(dir, "localhost.pem");
  if (!existsSync(keyFile) || !leafIsGood(certFile, caPem)) makeLeaf(dir, ca, keyFile, certFile);
  const chainPem = readFileSync(certFile, "utf8");
  return {
    dir,
    caFile: ca.certFile,
    caPem,
    chainPem,
    keyPem: readFileSync(keyFile, "utf8"),
    fingerprint: new X509Certificate(chainPem).fingerprint256.replace(/:/g, "").toLowerCase(),
  };
}
