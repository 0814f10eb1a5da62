import { randomUUID } from "node:crypto";
import { Prisma } from "@fulcrum/db";
import type { z } from "zod";
import { ConflictError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import { getCluster } from "../topology/clusters";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { type InspectedCertificate, inspectUpload } from "./inspect";
import { encryptPrivateKey, type KeyRing, keyAad } from "./key-encryption";
import { inspectPkcs12Upload } from "./pkcs12-upload";
import type {
  certificatePkcs12Input,
  certificateRenameInput,
  certificateReplaceInput,
  certificateUploadInput,
} from "./schemas";

export interface CertificateDeps extends TopologyDeps {
  keys: KeyRing;
}

/** Every column but the encrypted key: no API returns key material, encrypted or not. */
export const PUBLIC_CERTIFICATE_FIELDS = {
  id: true,
  clusterId: true,
  name: true,
  chainPem: true,
  fingerprint: true,
  subject: true,
  issuer: true,
  names: true,
  ipAddresses: true,
  keyType: true,
  notBefore: true,
  notAfter: true,
  source: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.CertificateSelect;

/** What audit entries and history show of a certificate: public facts, fingerprint first. */
function auditView(c: {
  name: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  names: string[];
  notAfter: Date;
}) {
  const { name, fingerprint, subject, issuer, names, notAfter } = c;
  return { name, fingerprint, subject, issuer, names, notAfter: notAfter.toISOString() };
}

export interface CertificateUse {
  listenerId: string;
  listenerName: string;
  port: number;
  /** The route hosts of that listener ("" = any host). */
  hosts: string[];
  isDefault: boolean;
}

/** The cluster's certificates with the listeners (and their route hosts) that use each. */
export async function listCertificates(deps: TopologyDeps, clusterId: string) {
  const [certificates, listeners] = await Promise.all([
    deps.prisma.certificate.findMany({
      where: { clusterId },
      select: PUBLIC_CERTIFICATE_FIELDS,
      orderBy: [{ notAfter: "asc" }, { name: "asc" }],
    }),
    deps.prisma.listener.findMany({
      where: { clusterId, protocol: "http", NOT: { tls: { equals: Prisma.DbNull } } },
      select: { id: true, name: true, port: true, tls: true, routes: { select: { host: true } } },
    }),
  ]);
  const uses = usesByCertificate(listeners);
  return certificates.map((c) => ({ ...c, usedBy: uses.get(c.id) ?? [] }));
}

export async function getCertificate(deps: TopologyDeps, id: string) {
  const c = await deps.prisma.certificate.findUnique({ where: { id }, select: PUBLIC_CERTIFICATE_FIELDS });
  if (!c) throw new NotFoundError("Certificate", id);
  return c;
}

function usesByCertificate(
  listeners: Array<{ id: string; name: string; port: number; tls: unknown; routes: Array<{ host: string }> }>,
): Map<string, CertificateUse[]> {
  const out = new Map<string, CertificateUse[]>();
  for (const l of listeners) {
    const tls = l.tls as { certificateIds?: unknown; defaultCertificateId?: unknown } | null;
    const ids = Array.isArray(tls?.certificateIds)
      ? tls.certificateIds.filter((v) => typeof v === "string")
      : [];
    const hosts = [...new Set(l.routes.map((r) => r.host))].sort();
    for (const id of ids) {
      const list = out.get(id) ?? [];
      list.push({
        listenerId: l.id,
        listenerName: l.name,
        port: l.port,
        hosts,
        isDefault: tls?.defaultCertificateId === id,
      });
      out.set(id, list);
    }
  }
  return out;
}

async function usesOf(
  tx: Prisma.TransactionClient,
  clusterId: string,
  id: string,
): Promise<CertificateUse[]> {
  const listeners = await tx.listener.findMany({
    where: { clusterId, protocol: "http", NOT: { tls: { equals: Prisma.DbNull } } },
    select: { id: true, name: true, port: true, tls: true, routes: { select: { host: true } } },
  });
  return usesByCertificate(listeners).get(id) ?? [];
}

/**
 * Checks the upload (inspect.ts), encrypts the key and stores the certificate.
 * An unused certificate changes no snapshot, so it makes no new config version;
 * the audit entry records its fingerprint, never its key.
 */
export async function uploadCertificate(
  deps: CertificateDeps,
  actor: Actor,
  input: z.infer<typeof certificateUploadInput>,
  now = new Date(),
) {
  await getCluster(deps, input.clusterId);
  return storeUpload(deps, actor, input, inspectUpload(input, now));
}

/** The same from a PKCS#12 file (base64) and its password: same checks, same audit entry. */
export async function uploadPkcs12Certificate(
  deps: CertificateDeps,
  actor: Actor,
  input: z.infer<typeof certificatePkcs12Input>,
  now = new Date(),
) {
  await getCluster(deps, input.clusterId);
  return storeUpload(deps, actor, input, inspectPkcs12Upload(input, now));
}

async function storeUpload(
  deps: CertificateDeps,
  actor: Actor,
  input: { clusterId: string; name: string },
  inspected: InspectedCertificate,
) {
  const id = randomUUID();
  const { ciphertext, keyId } = encryptPrivateKey(deps.keys, inspected.keyPem, keyAad(id));
  const { keyPem: _key, ...facts } = inspected;
  return commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const created = await tx.certificate.create({
      data: {
        ...facts,
        id,
        clusterId: input.clusterId,
        name: input.name,
        keyCiphertext: ciphertext,
        encryptionKeyId: keyId,
        source: "upload",
      },
      select: PUBLIC_CERTIFICATE_FIELDS,
    });
    return {
      result: created,
      audit: {
        action: "certificate.upload",
        targetType: "certificate",
        targetId: id,
        after: auditView(created),
      },
    };
  });
}

/**
 * A renewed certificate and key for an existing entry: the listeners using it
 * keep their reference, the fingerprint changes, so the next config version
 * carries it (agents swap it without rebinding).
 */
export async function replaceCertificate(
  deps: CertificateDeps,
  actor: Actor,
  input: z.infer<typeof certificateReplaceInput>,
  now = new Date(),
) {
  const before = await getCertificate(deps, input.id);
  const inspected = inspectUpload(input, now);
  const { ciphertext, keyId } = encryptPrivateKey(deps.keys, inspected.keyPem, keyAad(input.id));
  const { keyPem: _key, ...facts } = inspected;
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const after = await tx.certificate.update({
      where: { id: input.id },
      data: { ...facts, keyCiphertext: ciphertext, encryptionKeyId: keyId },
      select: PUBLIC_CERTIFICATE_FIELDS,
    });
    return {
      result: after,
      audit: {
        action: "certificate.replace",
        targetType: "certificate",
        targetId: input.id,
        before: auditView(before),
        after: auditView(after),
      },
    };
  });
}

export async function renameCertificate(
  deps: TopologyDeps,
  actor: Actor,
  input: z.infer<typeof certificateRenameInput>,
) {
  const before = await getCertificate(deps, input.id);
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const after = await tx.certificate.update({
      where: { id: input.id },
      data: { name: input.name },
      select: PUBLIC_CERTIFICATE_FIELDS,
    });
    return {
      result: after,
      audit: {
        action: "certificate.rename",
        targetType: "certificate",
        targetId: input.id,
        before: auditView(before),
        after: auditView(after),
      },
    };
  });
}

/** Refused while a listener uses it: the listener would lose its certificate (and agents would NACK). */
export async function deleteCertificate(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await getCertificate(deps, id);
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const uses = await usesOf(tx, before.clusterId, id);
    if (uses.length > 0) {
      const names = uses.map((u) => u.listenerName).join(", ");
      const message = `Certificate ${before.name} is used by listener${uses.length > 1 ? "s" : ""} ${names}; take it off ${uses.length > 1 ? "them" : "it"} first.`;
      throw new ConflictError(message, { id: message });
    }
    // An ACME entry renewing this certificate would update a missing row forever: it goes too, audited.
    const automations = await tx.acmeCertificate.findMany({
      where: { certificateId: id },
      select: { id: true, name: true, names: true },
    });
    const automationIds = automations.map((a) => a.id);
    await tx.acmeChallenge.deleteMany({ where: { acmeCertificateId: { in: automationIds } } });
    await tx.acmeCertificate.deleteMany({ where: { id: { in: automationIds } } });
    await tx.certificate.delete({ where: { id } });
    return {
      result: { id },
      audit: [
        {
          action: "certificate.delete",
          targetType: "certificate",
          targetId: id,
          before: auditView(before),
        },
        ...automations.map((a) => ({
          action: "certificate.acme_delete",
          targetType: "acme_certificate",
          targetId: a.id,
          before: { name: a.name, names: a.names, certificateId: id },
        })),
      ],
    };
  });
}
