import { type CertificateField, CertificatePemInvalidError } from "./errors";

/**
 * PEM as people paste or upload it: CRLF or LF, blank lines and text around
 * the blocks (openssl's "subject=" lines in bundles) are tolerated; what is
 * inside a block must be base64. The stored and sent forms are re-encoded
 * from the parsed objects (inspect.ts), never this input.
 */
export interface PemBlock {
  label: string;
  der: Buffer;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,40})-----$/;

export function readPemBlocks(text: string, field: CertificateField): PemBlock[] {
  const blocks: PemBlock[] = [];
  let label: string | null = null;
  let body: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (label === null) {
      const m = BEGIN.exec(line);
      if (m) {
        label = m[1]!;
        body = [];
      } else if (line.startsWith("-----")) {
        throw new CertificatePemInvalidError(field, `Unexpected PEM line "${line.slice(0, 60)}".`);
      }
      continue;
    }
    if (line === `-----END ${label}-----`) {
      const b64 = body.join("");
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
        const what = body.some((l) => l.includes(":")) ? " (encrypted PEM with headers is not accepted)" : "";
        throw new CertificatePemInvalidError(field, `The ${label} block is not base64${what}.`);
      }
      blocks.push({ label, der: Buffer.from(b64, "base64") });
      label = null;
    } else if (line !== "") {
      body.push(line);
    }
  }
  if (label !== null) throw new CertificatePemInvalidError(field, `The ${label} block has no END line.`);
  if (blocks.length === 0) {
    const what = field === "keyPem" ? "private key" : "certificate";
    throw new CertificatePemInvalidError(field, `Paste a PEM ${what} (-----BEGIN …-----).`);
  }
  return blocks;
}

/** DER back to PEM with 64-character lines and LF (the protocol's grammar). */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
