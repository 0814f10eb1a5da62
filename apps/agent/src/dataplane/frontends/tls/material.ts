import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import type { TlsMaterial } from "@fulcrum/protocol";
import { errorMessage, SnapshotInvalidError } from "../../../errors";

/** sha256 of a certificate's DER in lower-case hex: the fingerprint snapshots name certificates by. */
export function certificateFingerprint(cert: X509Certificate): string {
  return createHash("sha256").update(cert.raw).digest("hex");
}

/**
 * Checks one certificate's material before any SecureContext is built from
 * it: the leaf (first block of the chain) parses and has the fingerprint the
 * snapshot names, the key parses and belongs to that leaf. Everything hostile
 * (garbage PEM, a key of another certificate, a chain for another
 * fingerprint) ends as a SnapshotInvalidError naming the certificate, so the
 * snapshot is NACKed and the agent keeps serving what it served. Returns the
 * key's type ("ec", "rsa", "ed25519", ...).
 */
export function checkMaterial(m: TlsMaterial, wantFingerprint: string): string {
  const bad = (what: string, e?: unknown) =>
    new SnapshotInvalidError(`certificate ${m.id}: ${what}${e === undefined ? "" : `: ${errorMessage(e)}`}`, {
      cause: e,
    });
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(m.chainPem);
  } catch (e) {
    throw bad("the chain's first certificate cannot be read", e);
  }
  const got = certificateFingerprint(leaf);
  if (got !== wantFingerprint || m.fingerprint !== wantFingerprint) {
    throw bad(`the chain's leaf has fingerprint ${got}, the snapshot names ${wantFingerprint}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(m.keyPem);
  } catch (e) {
    throw bad("the private key cannot be read", e);
  }
  if (!leaf.checkPrivateKey(key)) throw bad("the private key does not belong to the certificate");
  return key.asymmetricKeyType ?? "unknown";
}
