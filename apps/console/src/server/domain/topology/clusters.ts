import type { z } from "zod";
import { NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { translatePrismaError } from "../prisma-errors";
import type { clusterInput } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";

export async function listClusters(deps: TopologyDeps) {
  return deps.prisma.cluster.findMany({
    orderBy: { name: "asc" },
    include: { _count: { select: { listeners: true, pools: true, agents: true } } },
  });
}

export async function getCluster(deps: Pick<TopologyDeps, "prisma">, id: string) {
  const cluster = await deps.prisma.cluster.findUnique({ where: { id } });
  if (!cluster) throw new NotFoundError("Cluster", id);
  return cluster;
}

export async function createCluster(deps: TopologyDeps, actor: Actor, input: z.infer<typeof clusterInput>) {
  try {
    return await deps.prisma.$transaction(async (tx) => {
      const cluster = await tx.cluster.create({ data: { name: input.name } });
      await recordAudit(tx, actor, {
        action: "cluster.create",
        targetType: "cluster",
        targetId: cluster.id,
        clusterId: cluster.id,
        after: cluster,
      });
      return cluster;
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
}

export async function renameCluster(deps: TopologyDeps, actor: Actor, id: string, name: string) {
  const before = await getCluster(deps, id);
  return commitTopologyChange(deps, actor, id, async (tx) => {
    const after = await tx.cluster.update({ where: { id }, data: { name } });
    return {
      result: after,
      audit: { action: "cluster.update", targetType: "cluster", targetId: id, before, after },
    };
  });
}

export async function deleteCluster(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await getCluster(deps, id);
  try {
    await deps.prisma.$transaction(async (tx) => {
      await tx.cluster.delete({ where: { id } });
      await recordAudit(tx, actor, { action: "cluster.delete", targetType: "cluster", targetId: id, before });
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
  return { id };
}
