import type { Prisma, PrismaClient } from "@fulcrum/db";
import { notifyInTransaction } from "../events/cluster-events";
import { compileSnapshotBody, compileSnapshotBodyAsStored, type SnapshotBody } from "../snapshot/compile";
import type { Actor } from "./actor";
import { type AuditInput, recordAudit } from "./audit";
import { lockCluster, readTopology, recordConfigVersion } from "./config-versions";
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
  /**
   * Set by `previewChange` (domain/changes/preview.ts): the change runs as usual
   * inside its transaction, then rolls back and reports the would-be snapshot
   * as a `DryRunComplete` instead of committing.
   */
  dryRun?: true;
}

/**
 * Thrown by a dry run once the change is made inside the transaction, so the
 * transaction rolls back: no audit entry, no version, no NOTIFY, no push.
 */
export class DryRunComplete extends Error {
  constructor(
    readonly clusterId: string,
    readonly before: SnapshotBody,
    readonly after: SnapshotBody,
  ) {
    super("dry run complete (rolled back)");
    this.name = "DryRunComplete";
  }
}

/**
 * The one way topology changes land: the change, its audit entries and the new
 * config version commit together or not at all; agents hear of it after commit.
 * The new version's snapshot is compiled and checked against the protocol's
 * snapshotSchema inside the transaction (recordConfigVersion -> compileSnapshotBody),
 * so a topology agents would refuse throws SnapshotInvalidError and rolls back.
 * `version` is the new config version, or null when the change compiled to the
 * snapshot already running.
 */
export async function commitTopologyChangeVersioned<T>(
  deps: TopologyDeps,
  actor: Actor,
  clusterId: string,
  change: (tx: Prisma.TransactionClient) => Promise<{ result: T; audit: AuditInput | AuditInput[] }>,
): Promise<{ result: T; version: number | null }> {
  let out: { result: T; version: number | null };
  try {
    out = await deps.prisma.$transaction(async (tx) => {
      await lockCluster(tx, clusterId);
      if (deps.dryRun) {
        // "before" is the state as stored, which may hold values agents now refuse (the change may be
        // their fix); "after" must pass the gate, as it would on commit, so a dry run fails alike.
        const before = compileSnapshotBodyAsStored(await readTopology(tx, clusterId));
        await change(tx);
        const after = compileSnapshotBody(await readTopology(tx, clusterId));
        throw new DryRunComplete(clusterId, before, after);
      }
      const { result, audit } = await change(tx);
      for (const entry of Array.isArray(audit) ? audit : [audit]) {
        await recordAudit(tx, actor, { ...entry, clusterId });
      }
      const version = await recordConfigVersion(tx, clusterId, actor);
      // Other consoles on this database push to their agents when this commits.
      if (version.created) {
        await notifyInTransaction(tx, {
          type: "config-changed",
          clusterId,
          origin: deps.publisher.instanceId,
        });
      }
      return { result, version: version.created ? version.version : null };
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
  deps.publisher.clusterChanged(clusterId);
  return out;
}

/** `commitTopologyChangeVersioned` for callers that only need the change's result. */
export async function commitTopologyChange<T>(
  deps: TopologyDeps,
  actor: Actor,
  clusterId: string,
  change: (tx: Prisma.TransactionClient) => Promise<{ result: T; audit: AuditInput | AuditInput[] }>,
): Promise<T> {
  return (await commitTopologyChangeVersioned(deps, actor, clusterId, change)).result;
}
