import type { z } from "zod";
import { NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { backendInput, backendUpdate } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getPool } from "./pools";

async function getBackend(deps: TopologyDeps, id: string) {
  const backend = await deps.prisma.backend.findUnique({ where: { id }, include: { pool: true } });
  if (!backend) throw new NotFoundError("Backend", id);
  return backend;
}

export async function createBackend(deps: TopologyDeps, actor: Actor, input: z.infer<typeof backendInput>) {
  const pool = await getPool(deps, input.poolId);
  return commitTopologyChange(deps, actor, pool.clusterId, async (tx) => {
    const after = await tx.backend.create({ data: input });
    return {
      result: after,
      audit: { action: "backend.create", targetType: "backend", targetId: after.id, after },
    };
  });
}

export async function updateBackend(deps: TopologyDeps, actor: Actor, input: z.infer<typeof backendUpdate>) {
  const { pool, ...before } = await getBackend(deps, input.id);
  const { id, ...data } = input;
  return commitTopologyChange(deps, actor, pool.clusterId, async (tx) => {
    const after = await tx.backend.update({ where: { id }, data });
    const action = data.state && data.state !== before.state ? `backend.${data.state}` : "backend.update";
    return { result: after, audit: { action, targetType: "backend", targetId: id, before, after } };
  });
}

export async function deleteBackend(deps: TopologyDeps, actor: Actor, id: string) {
  const { pool, ...before } = await getBackend(deps, id);
  return commitTopologyChange(deps, actor, pool.clusterId, async (tx) => {
    await tx.backend.delete({ where: { id } });
    return {
      result: { id },
      audit: { action: "backend.delete", targetType: "backend", targetId: id, before },
    };
  });
}
