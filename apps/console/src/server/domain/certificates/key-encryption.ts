import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

/*
 * Private keys of uploaded certificates are stored encrypted with AES-256-GCM
 * (authenticated: a changed byte fails the decryption instead of yielding
 * another key). The key is derived with HKDF-SHA256 from FULCRUM_SECRET, so
 * the database alone reveals no private key. Each ciphertext names the secret
 * it was made with (`encryptionKeyId`, a hash that reveals nothing of it), so
 * the secret can be rotated: the previous one stays readable from
 * FULCRUM_PREVIOUS_SECRETS until reencryptCertificateKeys has moved every key
 * to the current one (docs/operations.md, "Certificates").
 */

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT = "fulcrum certificate keys";

export interface DerivedKey {
  /** "v1:" and 16 hex digits: identifies the secret, reveals nothing of it. */
  readonly id: string;
  readonly key: Buffer;
}

export interface KeyRing {
  /** New ciphertexts use this one. */
  readonly current: DerivedKey;
  /** Earlier secrets, read until their ciphertexts are re-encrypted. */
  readonly all: ReadonlyMap<string, DerivedKey>;
}

export function deriveKey(secret: string): DerivedKey {
  const key = Buffer.from(hkdfSync("sha256", secret, SALT, "aes-256-gcm v1", 32));
  const idBytes = Buffer.from(hkdfSync("sha256", secret, SALT, "key id v1", 32));
  return { id: `v1:${createHash("sha256").update(idBytes).digest("hex").slice(0, 16)}`, key };
}

export function keyRing(secret: string, previousSecrets: readonly string[] = []): KeyRing {
  const current = deriveKey(secret);
  const all = new Map<string, DerivedKey>([[current.id, current]]);
  for (const s of previousSecrets) {
    const k = deriveKey(s);
    if (!all.has(k.id)) all.set(k.id, k);
  }
  return { current, all };
}

/** The key material is bound to its certificate (`aad`): a ciphertext copied to another row does not decrypt. */
export function encryptPrivateKey(
  ring: KeyRing,
  keyPem: string,
  aad: string,
): { ciphertext: Uint8Array<ArrayBuffer>; keyId: string } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", ring.current.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(keyPem, "utf8"), cipher.final()]);
  const out = new Uint8Array(NONCE_BYTES + TAG_BYTES + body.length);
  out.set(nonce, 0);
  out.set(cipher.getAuthTag(), NONCE_BYTES);
  out.set(body, NONCE_BYTES + TAG_BYTES);
  return { ciphertext: out, keyId: ring.current.id };
}

/** A stored key that cannot be decrypted: its secret is not configured, or the ciphertext was changed. */
export class KeyDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyDecryptionError";
  }
}

export function decryptPrivateKey(ring: KeyRing, ciphertext: Uint8Array, keyId: string, aad: string): string {
  const k = ring.all.get(keyId);
  if (!k) {
    throw new KeyDecryptionError(
      `encrypted with secret ${keyId}, which is neither FULCRUM_SECRET nor in FULCRUM_PREVIOUS_SECRETS`,
    );
  }
  const data = Buffer.from(ciphertext);
  if (data.length <= NONCE_BYTES + TAG_BYTES) throw new KeyDecryptionError("ciphertext too short");
  try {
    const decipher = createDecipheriv("aes-256-gcm", k.key, data.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(data.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(data.subarray(NONCE_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new KeyDecryptionError("authentication failed (changed ciphertext, or another certificate's)");
  }
}

/** What binds a stored key to its certificate row. */
export const keyAad = (certificateId: string) => `fulcrum certificate ${certificateId}`;
