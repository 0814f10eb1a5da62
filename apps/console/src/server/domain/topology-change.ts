import type { Prisma, PrismaClient } from "@fulcrum/db";
import { notifyInTransaction } from "../events/cluster-events";
import type { Actor } from "./actor";
import { type AuditInput, recordAudit } from "./audit";
import { lockCluster, recordConfigVersion } from "./config-versions";
import { translatePrismaError } from "./prisma-errors";

/** Told after commit that a cluster's configuration may have a new version. */
export interface ConfigPublisher {
  /** Identifies this console process in events other consoles receive. */
  readonly instanceId: string;
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
      const version = await recordConfigVersion(tx, clusterId, actor);
      // Other consoles on this database push to their agents when this commits.
      if (version.created) {
        await notifyInTransaction(tx, {
          type: "config-changed",
          clusterId,
          origin: deps.publisher.instanceId,
        });
      }
      return result;
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
  deps.publisher.clusterChanged(clusterId);
  return result;
}
