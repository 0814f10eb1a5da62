import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, errorMessage } from "../errors";

/** How the agent verifies the console's certificate: `ca` replaces the system roots when set. */
export interface ConsoleTls {
  /** PEM bundle from --console-ca; undefined: Node's roots plus NODE_EXTRA_CA_CERTS. */
  ca: string | undefined;
  /** The file it came from, named in log lines. */
  caFile: string | undefined;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MAX_CA_BYTES = 1024 * 1024;

/** Reads and checks --console-ca once at start: a readable file of one or more PEM certificates. */
export function readConsoleCa(file: string): string {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_CA_BYTES) throw new Error(`larger than ${MAX_CA_BYTES} bytes`);
    text = buf.toString("utf8");
  } catch (e) {
    throw new ConfigError(`--console-ca ${file}: cannot read it: ${errorMessage(e)}`);
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(`--console-ca ${file}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`);
  }
  for (const [i, pem] of blocks.entries()) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new ConfigError(`--console-ca ${file}: certificate ${i + 1} is not valid: ${errorMessage(e)}`);
    }
  }
  return blocks.join("\n");
}

/** OpenSSL's verification failures (err.code) that mean "not signed by anything we trust". */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
  "INVALID_CA",
]);
const NOT_NOW = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/**
 * What to tell the operator when `e` (or its cause) is a failed verification
 * of the console's certificate; undefined for any other error.
 */
export function consoleCertProblem(e: unknown, tls: ConsoleTls): string | undefined {
  const err = (e as { cause?: unknown })?.cause ?? e;
  const code = String((err as { code?: unknown })?.code ?? "");
  const detail = `${errorMessage(err)} (${code})`;
  if (UNTRUSTED.has(code)) {
    return tls.caFile
      ? `the console's certificate is not trusted: ${detail}; it is not signed by a CA in --console-ca ${tls.caFile}`
      : `the console's certificate is not trusted: ${detail}; for a private CA, use --console-ca FILE (its PEM certificate)`;
  }
  if (NOT_NOW.has(code)) return `the console's certificate is not valid now: ${detail}`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the console's certificate does not name the host in --console: ${detail}`;
  }
  return undefined;
}
