import { randomUUID } from "node:crypto";
import type { Prisma } from "@fulcrum/db";
import type { ListenerTls } from "@fulcrum/protocol";
import { SYSTEM_ACTOR } from "../actor";
import type { CertificateDeps } from "../certificates/certificates";
import { PUBLIC_CERTIFICATE_FIELDS } from "../certificates/certificates";
import { inspectUpload } from "../certificates/inspect";
import { encryptPrivateKey, keyAad } from "../certificates/key-encryption";
import { commitTopologyChangeVersioned, type TopologyDeps } from "../topology-change";
import { AcmeCertificateGoneError } from "./errors";

/*
 * What ACME issuance writes, each through commitTopologyChange so agents get
 * it as a config version: the HTTP-01 tokens to serve (and their removal), and
 * the issued certificate (a Certificate of source "acme").
 */

export interface AcmeTarget {
  id: string;
  clusterId: string;
  name: string;
  listenerId: string | null;
  certificateId: string | null;
}

/** Publishes tokens for every agent to serve; returns the config version that carries them (null: unchanged). */
export async function publishChallenges(
  deps: TopologyDeps,
  target: AcmeTarget,
  challenges: Array<{ token: string; keyAuthorization: string; host: string }>,
): Promise<number | null> {
  const { version } = await commitTopologyChangeVersioned(
    deps,
    SYSTEM_ACTOR,
    target.clusterId,
    async (tx) => {
      await tx.acmeChallenge.deleteMany({ where: { acmeCertificateId: target.id } });
      await tx.acmeChallenge.createMany({
        data: challenges.map((c) => ({ ...c, clusterId: target.clusterId, acmeCertificateId: target.id })),
      });
      // Tokens are public (the CA fetches them over plain HTTP); no audit entry for each.
      return { result: null, audit: [] };
    },
  );
  return version;
}

export async function withdrawChallenges(deps: TopologyDeps, target: AcmeTarget): Promise<void> {
  await commitTopologyChangeVersioned(deps, SYSTEM_ACTOR, target.clusterId, async (tx) => {
    await tx.acmeChallenge.deleteMany({ where: { acmeCertificateId: target.id } });
    return { result: null, audit: [] };
  });
}

/**
 * Stores the issued chain and key (checked like an upload), replaces the
 * previous one on renewal, and on first issuance puts it on the chosen
 * listener (TLS turned on with it as default, or added to its certificates).
 * One audit entry per issuance; the new fingerprint makes a new config version.
 */
export async function storeIssuedCertificate(
  deps: CertificateDeps,
  target: AcmeTarget,
  chainPem: string,
  keyPem: string,
  now = new Date(),
) {
  const inspected = inspectUpload({ chainPem, keyPem }, now);
  const id = target.certificateId ?? randomUUID();
  const { ciphertext, keyId } = encryptPrivateKey(deps.keys, inspected.keyPem, keyAad(id));
  const { keyPem: _key, ...facts } = inspected;
  const renewal = target.certificateId !== null;
  const { result } = await commitTopologyChangeVersioned(deps, SYSTEM_ACTOR, target.clusterId, async (tx) => {
    const data = { ...facts, keyCiphertext: ciphertext, encryptionKeyId: keyId };
    if (renewal && !(await tx.certificate.findUnique({ where: { id }, select: { id: true } }))) {
      throw new AcmeCertificateGoneError(target.name, id);
    }
    const stored = renewal
      ? await tx.certificate.update({ where: { id }, data, select: PUBLIC_CERTIFICATE_FIELDS })
      : await tx.certificate.create({
          data: {
            ...data,
            id,
            clusterId: target.clusterId,
            name: await freeName(tx, target),
            source: "acme",
          },
          select: PUBLIC_CERTIFICATE_FIELDS,
        });
    await tx.acmeChallenge.deleteMany({ where: { acmeCertificateId: target.id } });
    if (!renewal && target.listenerId) await attachToListener(tx, target.listenerId, id);
    return {
      result: stored,
      audit: {
        action: renewal ? "certificate.acme_renew" : "certificate.acme_issue",
        targetType: "certificate",
        targetId: id,
        after: {
          name: stored.name,
          fingerprint: stored.fingerprint,
          issuer: stored.issuer,
          names: stored.names,
          notAfter: stored.notAfter.toISOString(),
        },
      },
    };
  });
  return result;
}

/** The ACME entry's name, or that name with a suffix when an uploaded certificate already has it. */
async function freeName(tx: Prisma.TransactionClient, target: AcmeTarget): Promise<string> {
  for (let i = 0; ; i++) {
    const name = i === 0 ? target.name : `${target.name}-acme${i === 1 ? "" : `-${i}`}`;
    const taken = await tx.certificate.findFirst({ where: { clusterId: target.clusterId, name } });
    if (!taken) return name;
  }
}

async function attachToListener(tx: Prisma.TransactionClient, listenerId: string, certificateId: string) {
  const l = await tx.listener.findUnique({
    where: { id: listenerId },
    select: { protocol: true, tls: true },
  });
  if (l?.protocol !== "http") return;
  const tls = l.tls as Partial<ListenerTls> | null;
  const next: Partial<ListenerTls> =
    tls && Array.isArray(tls.certificateIds)
      ? { ...tls, certificateIds: [...new Set([...tls.certificateIds, certificateId])] }
      : { certificateIds: [certificateId], defaultCertificateId: certificateId };
  await tx.listener.update({
    where: { id: listenerId },
    data: { tls: next as Prisma.InputJsonValue },
  });
}
