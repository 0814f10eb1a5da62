import type { Prisma } from "@fulcrum/db";
import type { Snapshot } from "@fulcrum/protocol";
import { compileSnapshotBody, hashSnapshotBody, type TopologyRows } from "../snapshot/compile";
import type { Actor } from "./actor";

/** Reads one cluster's topology in the shape the compiler takes. */
export async function readTopology(tx: Prisma.TransactionClient, clusterId: string): Promise<TopologyRows> {
  const [listeners, pools, certificates, acmeChallenges, caBundles] = await Promise.all([
    tx.listener.findMany({ where: { clusterId }, include: { routes: true } }),
    tx.pool.findMany({ where: { clusterId }, include: { backends: true } }),
    // Public facts only: key material never enters a config version.
    tx.certificate.findMany({
      where: { clusterId },
      select: { id: true, fingerprint: true, names: true, notAfter: true },
    }),
    tx.acmeChallenge.findMany({
      where: { clusterId },
      select: { token: true, keyAuthorization: true, host: true },
    }),
    // By fingerprint only: the PEM travels beside the snapshot, never in a config version.
    tx.caBundle.findMany({ where: { clusterId }, select: { id: true, fingerprint: true } }),
  ]);
  return { listeners, pools, certificates, acmeChallenges, caBundles };
}

/**
 * Compiles the cluster's topology and records a new version only when its
 * hash differs from the latest one. Must run in the transaction that made the
 * change, after locking the cluster row, so versions stay gap-free and monotonic.
 */
export async function recordConfigVersion(
  tx: Prisma.TransactionClient,
  clusterId: string,
  actor: Actor,
): Promise<{ version: number; hash: string; created: boolean }> {
  const body = compileSnapshotBody(await readTopology(tx, clusterId));
  const hash = hashSnapshotBody(body);
  const latest = await tx.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } });
  if (latest && latest.hash === hash) return { version: latest.version, hash, created: false };
  const version = (latest?.version ?? 0) + 1;
  const snapshot: Snapshot = {
    version,
    hash,
    clusterId,
    createdAt: new Date().toISOString(),
    ...body,
    certificates: body.certificates ?? [],
    acmeChallenges: body.acmeChallenges ?? [],
    caBundles: body.caBundles ?? [],
  };
  await tx.configVersion.create({
    data: {
      clusterId,
      version,
      hash,
      snapshot: snapshot as unknown as Prisma.InputJsonValue,
      authorId: actor.id,
      authorName: actor.name,
    },
  });
  return { version, hash, created: true };
}

/** Serializes writers of one cluster: versions are numbered inside this lock. */
export async function lockCluster(tx: Prisma.TransactionClient, clusterId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM clusters WHERE id = ${clusterId} FOR UPDATE`;
}

export async function latestSnapshot(
  tx: Prisma.TransactionClient,
  clusterId: string,
): Promise<Snapshot | null> {
  const latest = await tx.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } });
  return latest ? (latest.snapshot as unknown as Snapshot) : null;
}
