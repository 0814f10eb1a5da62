import { createHash, createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { isCertificateName } from "@fulcrum/protocol";
import {
  CertificateChainBrokenError,
  CertificateExpiredError,
  CertificateKeyMismatchError,
  CertificateKeyTypeError,
  CertificateNameInvalidError,
  CertificateNotYetValidError,
  CertificatePemInvalidError,
} from "./errors";
import { readPemBlocks, toPem } from "./pem";

/** What the console keeps of an upload: normalised PEM and the facts shown on the Certificates page. */
export interface InspectedCertificate {
  /** Leaf first, then its issuers in order; LF, CERTIFICATE blocks only. */
  chainPem: string;
  /** Unencrypted PKCS#8 PEM (the only form the protocol carries). */
  keyPem: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  names: string[];
  ipAddresses: string[];
  keyType: string;
  notBefore: Date;
  notAfter: Date;
}

const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);
const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384" };

/**
 * Checks an upload with node:crypto: the key matches a certificate (the
 * leaf), the others link leaf → issuers (given in any order; one that links to
 * nothing is refused), every certificate is valid at `now`, the key is RSA ≥
 * 2048 bits, EC P-256/P-384 or Ed25519, and the leaf's DNS names are ones SNI
 * can match. Each failure throws its own error naming the field.
 */
export function inspectUpload(
  input: { chainPem: string; keyPem: string },
  now = new Date(),
): InspectedCertificate {
  const certs = readCertificates(input.chainPem);
  const key = readPrivateKey(input.keyPem);
  const keyType = describeKey(key);
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) {
    throw new CertificateKeyMismatchError(
      certs.length === 1
        ? "This key does not belong to the certificate: its public key is another one."
        : `This key belongs to none of the ${certs.length} certificates given.`,
    );
  }
  const chain = orderChain(leaf, certs);
  for (const c of chain) checkValidity(c, now, c === leaf);
  const { names, ipAddresses } = namesOf(leaf);
  return {
    chainPem: chain.map((c) => toPem("CERTIFICATE", c.raw)).join(""),
    keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
    fingerprint: createHash("sha256").update(leaf.raw).digest("hex"),
    subject: oneLine(leaf.subject),
    issuer: oneLine(leaf.issuer),
    names,
    ipAddresses,
    keyType,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
  };
}

function readCertificates(chainPem: string): X509Certificate[] {
  const blocks = readPemBlocks(chainPem, "chainPem");
  return blocks.map((b, i) => {
    if (b.label !== "CERTIFICATE") {
      const hint = KEY_LABELS.has(b.label) ? " Put the private key in the key field." : "";
      throw new CertificatePemInvalidError(
        "chainPem",
        `Block ${i + 1} is ${b.label}, not CERTIFICATE.${hint}`,
      );
    }
    try {
      return new X509Certificate(b.der);
    } catch {
      throw new CertificatePemInvalidError(
        "chainPem",
        `Certificate ${i + 1} cannot be read (not X.509 DER).`,
      );
    }
  });
}

function readPrivateKey(keyPem: string): KeyObject {
  const blocks = readPemBlocks(keyPem, "keyPem").filter((b) => b.label !== "EC PARAMETERS");
  if (blocks.length !== 1) {
    throw new CertificatePemInvalidError(
      "keyPem",
      `Paste exactly one private key (found ${blocks.length} blocks).`,
    );
  }
  const b = blocks[0]!;
  if (b.label === "ENCRYPTED PRIVATE KEY") {
    throw new CertificatePemInvalidError(
      "keyPem",
      "This key is encrypted with a passphrase. Decrypt it first: openssl pkey -in key.pem -out key-plain.pem",
    );
  }
  if (!KEY_LABELS.has(b.label)) {
    throw new CertificatePemInvalidError("keyPem", `The key block is ${b.label}, not PRIVATE KEY.`);
  }
  try {
    return createPrivateKey({ key: toPem(b.label, b.der), format: "pem" });
  } catch {
    throw new CertificatePemInvalidError("keyPem", "The private key cannot be read.");
  }
}

function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
      if ((d.modulusLength ?? 0) < 2048) {
        throw new CertificateKeyTypeError(
          `RSA keys need at least 2048 bits; this one has ${d.modulusLength}.`,
        );
      }
      return `RSA ${d.modulusLength}`;
    case "ec": {
      const curve = CURVES[d.namedCurve ?? ""];
      if (!curve) {
        throw new CertificateKeyTypeError(`EC keys must use P-256 or P-384; this one uses ${d.namedCurve}.`);
      }
      return `EC ${curve}`;
    }
    case "ed25519":
      return "Ed25519";
    default:
      throw new CertificateKeyTypeError(
        `${key.asymmetricKeyType ?? "This"} keys are not served; use RSA (2048 bits or more), EC P-256/P-384 or Ed25519.`,
      );
  }
}

/** Leaf first, then each certificate's issuer among the rest; every certificate given must find its place. */
function orderChain(leaf: X509Certificate, certs: X509Certificate[]): X509Certificate[] {
  const chain = [leaf];
  const rest = certs.filter((c) => c !== leaf);
  let current = leaf;
  while (rest.length > 0) {
    const i = rest.findIndex((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (i < 0) break;
    current = rest.splice(i, 1)[0]!;
    chain.push(current);
  }
  if (rest.length > 0) {
    throw new CertificateChainBrokenError(
      `${describe(rest[0]!)} does not issue ${describe(current)} or any certificate of its chain. Remove it, or add the certificates between them.`,
    );
  }
  return chain;
}

function checkValidity(c: X509Certificate, now: Date, isLeaf: boolean): void {
  const what = isLeaf ? "The certificate" : `The chain's ${describe(c)}`;
  const from = new Date(c.validFrom);
  const to = new Date(c.validTo);
  if (now < from) throw new CertificateNotYetValidError(`${what} is not valid before ${from.toISOString()}.`);
  if (now > to) throw new CertificateExpiredError(`${what} expired on ${to.toISOString()}.`);
}

/** DNS SANs (lower case) and IP SANs; the subject's CN only when there is no DNS SAN. */
function namesOf(leaf: X509Certificate): { names: string[]; ipAddresses: string[] } {
  const names: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of splitSan(leaf.subjectAltName ?? "")) {
    const m = /^(DNS|IP Address):(.*)$/.exec(entry);
    if (!m) continue;
    const value = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    if (m[1] === "IP Address") ipAddresses.push(value);
    else names.push(value.toLowerCase());
  }
  if (names.length === 0) {
    const cn = /^CN=(.*)$/m.exec(leaf.subject)?.[1]?.toLowerCase();
    if (cn && isCertificateName(cn)) names.push(cn);
  }
  for (const n of names) {
    if (!isCertificateName(n)) {
      throw new CertificateNameInvalidError(
        `The certificate names ${JSON.stringify(n).slice(0, 80)}, which SNI cannot match: names are letters, digits and hyphens in dot-separated labels, a wildcard only as the whole first label (*.example.com).`,
      );
    }
  }
  return { names: [...new Set(names)].sort(), ipAddresses };
}

/** node writes SANs as `DNS:a, DNS:b`, quoting (JSON) values that contain a comma or a quote. */
function splitSan(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' && text[i - 1] !== "\\") quoted = !quoted;
    if (!quoted && ch === "," && text[i + 1] === " ") {
      out.push(cur);
      cur = "";
      i++;
      continue;
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const oneLine = (dn: string) => dn.split("\n").filter(Boolean).join(", ");
const describe = (c: X509Certificate) => `certificate "${oneLine(c.subject).slice(0, 120)}"`;
