import type { Prisma, PrismaClient } from "@fulcrum/db";
import type { Actor } from "./actor";
import { type AuditInput, recordAudit } from "./audit";
import { lockCluster, recordConfigVersion } from "./config-versions";
import { translatePrismaError } from "./prisma-errors";

/** Told after commit that a cluster's configuration may have a new version. */
export interface ConfigPublisher {
  clusterChanged(clusterId: string): void;
}

export interface TopologyDeps {
  prisma: PrismaClient;
  publisher: ConfigPublisher;
}

/**
 * The one way topology changes land: the change, its audit entry and the new
 * config version commit together or not at all; agents hear of it after commit.
 */
export async function commitTopologyChange<T>(
  deps: TopologyDeps,
  actor: Actor,
  clusterId: string,
  change: (tx: Prisma.TransactionClient) => Promise<{ result: T; audit: AuditInput }>,
): Promise<T> {
  let result: T;
  try {
    result = await deps.prisma.$transaction(async (tx) => {
      await lockCluster(tx, clusterId);
      const { result, audit } = await change(tx);
      await recordAudit(tx, actor, { ...audit, clusterId });
      await recordConfigVersion(tx, clusterId, actor);
      return result;
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
  deps.publisher.clusterChanged(clusterId);
  return result;
}
