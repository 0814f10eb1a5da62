import type { Prisma } from "@fulcrum/db";
import type { z } from "zod";
import { ConflictError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { poolInput, poolUpdate } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getCluster } from "./clusters";

export async function listPools(deps: TopologyDeps, clusterId: string) {
  return deps.prisma.pool.findMany({
    where: { clusterId },
    orderBy: { name: "asc" },
    include: {
      backends: { orderBy: [{ address: "asc" }, { port: "asc" }] },
      _count: { select: { routes: true } },
    },
  });
}

export async function getPool(deps: TopologyDeps, id: string) {
  const pool = await deps.prisma.pool.findUnique({ where: { id }, include: { backends: true } });
  if (!pool) throw new NotFoundError("Pool", id);
  return pool;
}

const json = (v: unknown) => v as Prisma.InputJsonValue;

export async function createPool(deps: TopologyDeps, actor: Actor, input: z.infer<typeof poolInput>) {
  await getCluster(deps, input.clusterId);
  return commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const after = await tx.pool.create({
      data: {
        ...input,
        policyOptions: json(input.policyOptions),
        healthCheck: json(input.healthCheck),
        persistence: json(input.persistence),
        outlierDetection: json(input.outlierDetection),
        retries: json(input.retries),
        limits: json(input.limits),
      },
    });
    return { result: after, audit: { action: "pool.create", targetType: "pool", targetId: after.id, after } };
  });
}

export async function updatePool(deps: TopologyDeps, actor: Actor, input: z.infer<typeof poolUpdate>) {
  const { backends: _b, ...before } = await getPool(deps, input.id);
  const { id, policyOptions, healthCheck, persistence, outlierDetection, retries, limits, ...rest } = input;
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const after = await tx.pool.update({
      where: { id },
      data: {
        ...rest,
        ...(policyOptions ? { policyOptions: json(policyOptions) } : {}),
        ...(healthCheck ? { healthCheck: json(healthCheck) } : {}),
        ...(persistence ? { persistence: json(persistence) } : {}),
        ...(outlierDetection ? { outlierDetection: json(outlierDetection) } : {}),
        ...(retries ? { retries: json(retries) } : {}),
        ...(limits ? { limits: json(limits) } : {}),
      },
    });
    return {
      result: after,
      audit: { action: "pool.update", targetType: "pool", targetId: id, before, after },
    };
  });
}

export async function deletePool(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await getPool(deps, id);
  const routes = await deps.prisma.route.count({ where: { poolId: id } });
  if (routes > 0) {
    throw new ConflictError(
      `Pool ${before.name} is the target of ${routes} route${routes === 1 ? "" : "s"}; point them elsewhere first.`,
    );
  }
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    await tx.pool.delete({ where: { id } });
    return { result: { id }, audit: { action: "pool.delete", targetType: "pool", targetId: id, before } };
  });
}
