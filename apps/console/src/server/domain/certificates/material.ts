import type { PrismaClient } from "@fulcrum/db";
import type { Snapshot, TlsMaterial } from "@fulcrum/protocol";
import { decryptPrivateKey, encryptPrivateKey, type KeyRing, keyAad } from "./key-encryption";

/**
 * The key material of a snapshot's certificates, decrypted just before the
 * gateway sends the snapshot to agents (the only place keys leave the
 * database). Certificates whose fingerprint no longer matches the snapshot's
 * (replaced since) are left out: the agent NACKs, and the next version,
 * already on its way, carries the new fingerprint.
 */
export async function loadTlsMaterial(
  prisma: PrismaClient,
  keys: KeyRing,
  snapshot: Pick<Snapshot, "certificates">,
): Promise<TlsMaterial[]> {
  const refs = snapshot.certificates ?? [];
  if (refs.length === 0) return [];
  const rows = await prisma.certificate.findMany({
    where: { id: { in: refs.map((c) => c.id) } },
    select: { id: true, fingerprint: true, chainPem: true, keyCiphertext: true, encryptionKeyId: true },
  });
  const wanted = new Map(refs.map((c) => [c.id, c.fingerprint]));
  return rows
    .filter((r) => wanted.get(r.id) === r.fingerprint)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => ({
      id: r.id,
      fingerprint: r.fingerprint,
      chainPem: r.chainPem,
      keyPem: decryptPrivateKey(keys, r.keyCiphertext, r.encryptionKeyId, keyAad(r.id)),
    }));
}

/**
 * Moves every stored key to the current secret (after FULCRUM_SECRET was
 * rotated and the old one listed in FULCRUM_PREVIOUS_SECRETS). Returns how
 * many keys were re-encrypted; a key whose secret is unknown is left as is and
 * counted in `unreadable`.
 */
export async function reencryptCertificateKeys(
  prisma: PrismaClient,
  keys: KeyRing,
): Promise<{ reencrypted: number; unreadable: string[] }> {
  const stale = await prisma.certificate.findMany({
    where: { NOT: { encryptionKeyId: keys.current.id } },
    select: { id: true, name: true, keyCiphertext: true, encryptionKeyId: true },
  });
  let reencrypted = 0;
  const unreadable: string[] = [];
  for (const c of stale) {
    let keyPem: string;
    try {
      keyPem = decryptPrivateKey(keys, c.keyCiphertext, c.encryptionKeyId, keyAad(c.id));
    } catch {
      unreadable.push(c.name);
      continue;
    }
    const { ciphertext, keyId } = encryptPrivateKey(keys, keyPem, keyAad(c.id));
    // Only if nobody replaced it meanwhile.
    const { count } = await prisma.certificate.updateMany({
      where: { id: c.id, encryptionKeyId: c.encryptionKeyId },
      data: { keyCiphertext: ciphertext, encryptionKeyId: keyId },
    });
    reencrypted += count;
  }
  return { reencrypted, unreadable };
}
