import type { Prisma } from "@fulcrum/db";
import type { Snapshot } from "@fulcrum/protocol";
import { ConflictError, NotFoundError } from "../errors";
import { parseStoredSnapshot } from "../snapshot/publishable";
import type { Actor } from "./actor";
import { commitTopologyChange, type TopologyDeps } from "./topology-change";

const json = (v: unknown) => v as Prisma.InputJsonValue;

/** Replaces a cluster's topology with the one an old snapshot describes, ids included. */
async function restoreTopology(
  tx: Prisma.TransactionClient,
  clusterId: string,
  snap: Snapshot,
): Promise<void> {
  // Routes reference pools (restrict), so they go first; backends cascade with their pools.
  await tx.route.deleteMany({ where: { listener: { clusterId } } });
  await tx.listener.deleteMany({ where: { clusterId } });
  await tx.pool.deleteMany({ where: { clusterId } });
  for (const p of snap.pools) {
    await tx.pool.create({
      data: {
        id: p.id,
        clusterId,
        name: p.name,
        policy: p.policy,
        policyOptions: json(p.policyOptions),
        healthCheck: json(p.healthCheck),
        persistence: json(p.persistence),
        slowStartMs: p.slowStartMs,
        outlierDetection: json(p.outlierDetection),
        retries: json(p.retries),
        limits: json(p.limits),
        ...(p.tls ? { tls: json(p.tls) } : {}),
        ...(p.upstream ? { upstream: json(p.upstream) } : {}),
        backends: {
          create: p.backends.map(
            ({ id, name, address, port, weight, state, backup, maxConnections, publicBaseUrl }) => ({
              id,
              name,
              address,
              port,
              weight,
              state,
              backup,
              maxConnections,
              publicBaseUrl,
            }),
          ),
        },
      },
    });
  }
  for (const l of snap.listeners) {
    await tx.listener.create({
      data: {
        id: l.id,
        clusterId,
        name: l.name,
        protocol: l.protocol,
        bindAddress: l.bindAddress,
        port: l.port,
        settings: json(l.settings),
        // Certificates are referenced, not restored: a deleted one makes the gate refuse the rollback.
        ...(l.protocol === "http" && l.tls ? { tls: json(l.tls) } : {}),
        ...(l.protocol !== "dns" && l.http2 ? { http2: json(l.http2) } : {}),
        routes: {
          create: l.routes.map(({ id, host, pathPrefix, priority, poolId, action, redirect }) => ({
            id,
            host,
            pathPrefix,
            priority,
            poolId,
            action,
            redirect: json(redirect ?? {}),
          })),
        },
      },
    });
  }
}

/**
 * Rolls a cluster back to an old version by restoring its topology; the
 * result is recorded as a NEW version (equal in content to the old one), so
 * history only ever grows and agents receive it like any other change.
 */
export async function rollbackConfig(deps: TopologyDeps, actor: Actor, clusterId: string, version: number) {
  const [target, latest] = await Promise.all([
    deps.prisma.configVersion.findUnique({ where: { clusterId_version: { clusterId, version } } }),
    deps.prisma.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } }),
  ]);
  if (!target) throw new NotFoundError("Config version", String(version));
  if (latest && latest.hash === target.hash) {
    throw new ConflictError(`The running configuration (v${latest.version}) already equals v${version}.`);
  }
  // A version stored before the protocol's grammar was tightened may hold values agents now refuse:
  // refused here with the object and field named, instead of a raw zod error (or a snapshot agents NACK).
  const snapshot = parseStoredSnapshot(target.snapshot, `v${version} cannot be restored`);
  await commitTopologyChange(deps, actor, clusterId, async (tx) => {
    await restoreTopology(tx, clusterId, snapshot);
    return {
      result: undefined,
      audit: {
        action: "config.rollback",
        targetType: "config",
        targetId: String(version),
        before: { version: latest?.version ?? null },
        after: { restoredVersion: version },
      },
    };
  });
  const now = await deps.prisma.configVersion.findFirst({
    where: { clusterId },
    orderBy: { version: "desc" },
  });
  return { version: now?.version ?? version, restoredFrom: version };
}
