import { createHash, randomUUID, X509Certificate } from "node:crypto";
import type { Prisma } from "@fulcrum/db";
import { MAX_CA_BUNDLE_CERTIFICATES } from "@fulcrum/protocol";
import type { z } from "zod";
import { ConflictError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import { getCluster } from "../topology/clusters";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { CertificatePemInvalidError } from "./errors";
import { readPemBlocks, toPem } from "./pem";
import type { caBundleUploadInput } from "./schemas";

/*
 * Trusted CAs (issue 16, TLS to backends): PEM bundles a pool verifies its
 * backends' certificates against. Public, so stored in clear; snapshots name
 * them by id and sha256 of the stored PEM, and the PEM travels to agents next
 * to the snapshot (the gateway's snapshot frames), never in a config version.
 */

export const PUBLIC_CA_BUNDLE_FIELDS = {
  id: true,
  clusterId: true,
  name: true,
  pem: true,
  fingerprint: true,
  subjects: true,
  notAfter: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.CaBundleSelect;

/** What audit entries show of a bundle: fingerprint and subjects, not the PEM. */
const auditView = (b: { name: string; fingerprint: string; subjects: string[]; notAfter: Date }) => ({
  name: b.name,
  fingerprint: b.fingerprint,
  subjects: b.subjects,
  notAfter: b.notAfter.toISOString(),
});

export interface InspectedCaBundle {
  pem: string;
  fingerprint: string;
  subjects: string[];
  notAfter: Date;
}

/**
 * Reads an uploaded bundle: only CERTIFICATE blocks, each a readable X.509
 * certificate, none expired; re-encoded as the protocol's PEM (LF, 64-column
 * lines) so the stored text, its fingerprint and what agents get are one thing.
 */
export function inspectCaBundle(text: string, now = new Date()): InspectedCaBundle {
  const blocks = readPemBlocks(text.replaceAll("\r\n", "\n"), "pem");
  if (blocks.length > MAX_CA_BUNDLE_CERTIFICATES) {
    throw new CertificatePemInvalidError(
      "pem",
      `A bundle holds at most ${MAX_CA_BUNDLE_CERTIFICATES} certificates.`,
    );
  }
  const subjects: string[] = [];
  let notAfter: Date | undefined;
  let pem = "";
  for (const [i, b] of blocks.entries()) {
    if (b.label !== "CERTIFICATE") {
      throw new CertificatePemInvalidError(
        "pem",
        `Block ${i + 1} is ${b.label}; a CA bundle holds certificates only.`,
      );
    }
    let x: X509Certificate;
    try {
      x = new X509Certificate(b.der);
    } catch {
      throw new CertificatePemInvalidError("pem", `Certificate ${i + 1} of the bundle cannot be read.`);
    }
    const until = new Date(x.validTo);
    if (until.getTime() <= now.getTime()) {
      throw new CertificatePemInvalidError(
        "pem",
        `Certificate ${i + 1} (${oneLine(x.subject)}) expired on ${until.toISOString()}.`,
      );
    }
    subjects.push(oneLine(x.subject));
    if (notAfter === undefined || until < notAfter) notAfter = until;
    pem += toPem("CERTIFICATE", b.der);
  }
  const fingerprint = createHash("sha256").update(pem, "utf8").digest("hex");
  return { pem, fingerprint, subjects, notAfter: notAfter! };
}

const oneLine = (subject: string) => subject.split("\n").join(", ").slice(0, 500);

export interface CaBundleUse {
  poolId: string;
  poolName: string;
}

/** Pools (of the cluster) whose TLS verifies against each bundle. */
async function usesByBundle(
  db: Prisma.TransactionClient | TopologyDeps["prisma"],
  clusterId: string,
): Promise<Map<string, CaBundleUse[]>> {
  const pools = await db.pool.findMany({ where: { clusterId }, select: { id: true, name: true, tls: true } });
  const out = new Map<string, CaBundleUse[]>();
  for (const p of pools) {
    const id = (p.tls as { caBundleId?: unknown } | null)?.caBundleId;
    if (typeof id !== "string") continue;
    out.set(id, [...(out.get(id) ?? []), { poolId: p.id, poolName: p.name }]);
  }
  return out;
}

export async function listCaBundles(deps: TopologyDeps, clusterId: string) {
  const [bundles, uses] = await Promise.all([
    deps.prisma.caBundle.findMany({
      where: { clusterId },
      select: PUBLIC_CA_BUNDLE_FIELDS,
      orderBy: { name: "asc" },
    }),
    usesByBundle(deps.prisma, clusterId),
  ]);
  return bundles.map((b) => ({ ...b, usedBy: uses.get(b.id) ?? [] }));
}

/** Stores a bundle; unused, it changes no snapshot (no new config version), but is audited. */
export async function uploadCaBundle(
  deps: TopologyDeps,
  actor: Actor,
  input: z.infer<typeof caBundleUploadInput>,
  now = new Date(),
) {
  await getCluster(deps, input.clusterId);
  const inspected = inspectCaBundle(input.pem, now);
  const id = randomUUID();
  return commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const created = await tx.caBundle.create({
      data: { id, clusterId: input.clusterId, name: input.name, ...inspected },
      select: PUBLIC_CA_BUNDLE_FIELDS,
    });
    return {
      result: created,
      audit: {
        action: "certificate.ca_upload",
        targetType: "ca_bundle",
        targetId: id,
        after: auditView(created),
      },
    };
  });
}

/** Refused while a pool verifies against it: the pool would lose its trust (and agents would NACK). */
export async function deleteCaBundle(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await deps.prisma.caBundle.findUnique({ where: { id }, select: PUBLIC_CA_BUNDLE_FIELDS });
  if (!before) throw new NotFoundError("CA bundle", id);
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const uses = (await usesByBundle(tx, before.clusterId)).get(id) ?? [];
    if (uses.length > 0) {
      const names = uses.map((u) => u.poolName).join(", ");
      const message = `CA bundle ${before.name} is used by pool${uses.length > 1 ? "s" : ""} ${names}; change ${uses.length > 1 ? "their" : "its"} TLS settings first.`;
      throw new ConflictError(message, { id: message });
    }
    await tx.caBundle.delete({ where: { id } });
    return {
      result: { id },
      audit: {
        action: "certificate.ca_delete",
        targetType: "ca_bundle",
        targetId: id,
        before: auditView(before),
      },
    };
  });
}

/** The PEM of the snapshot's CA bundles, for the snapshot frame; a bundle changed since is left out (the agent NACKs). */
export async function loadCaBundles(
  prisma: TopologyDeps["prisma"],
  refs: ReadonlyArray<{ id: string; fingerprint: string }>,
) {
  if (refs.length === 0) return [];
  const rows = await prisma.caBundle.findMany({
    where: { id: { in: refs.map((r) => r.id) } },
    select: { id: true, fingerprint: true, pem: true },
  });
  const wanted = new Map(refs.map((r) => [r.id, r.fingerprint]));
  return rows
    .filter((r) => wanted.get(r.id) === r.fingerprint)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
