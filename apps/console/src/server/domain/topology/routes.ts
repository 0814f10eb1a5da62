import type { z } from "zod";
import { InvalidInputError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { routeInput, routeUpdate } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getListener } from "./listeners";

async function getRoute(deps: TopologyDeps, id: string) {
  const route = await deps.prisma.route.findUnique({ where: { id }, include: { listener: true } });
  if (!route) throw new NotFoundError("Route", id);
  return route;
}

/** A route may only send traffic to a pool of its own listener's cluster. */
async function assertPoolInCluster(deps: TopologyDeps, poolId: string, clusterId: string) {
  const pool = await deps.prisma.pool.findUnique({ where: { id: poolId } });
  if (!pool) throw new NotFoundError("Pool", poolId);
  if (pool.clusterId !== clusterId) {
    const message = "That pool belongs to another cluster.";
    throw new InvalidInputError(message, { poolId: message });
  }
}

export async function createRoute(deps: TopologyDeps, actor: Actor, input: z.infer<typeof routeInput>) {
  const listener = await getListener(deps, input.listenerId);
  await assertPoolInCluster(deps, input.poolId, listener.clusterId);
  return commitTopologyChange(deps, actor, listener.clusterId, async (tx) => {
    const after = await tx.route.create({ data: input });
    return {
      result: after,
      audit: { action: "route.create", targetType: "route", targetId: after.id, after },
    };
  });
}

export async function updateRoute(deps: TopologyDeps, actor: Actor, input: z.infer<typeof routeUpdate>) {
  const { listener, ...before } = await getRoute(deps, input.id);
  if (input.poolId) await assertPoolInCluster(deps, input.poolId, listener.clusterId);
  const { id, ...data } = input;
  return commitTopologyChange(deps, actor, listener.clusterId, async (tx) => {
    const after = await tx.route.update({ where: { id }, data });
    return {
      result: after,
      audit: { action: "route.update", targetType: "route", targetId: id, before, after },
    };
  });
}

export async function deleteRoute(deps: TopologyDeps, actor: Actor, id: string) {
  const { listener, ...before } = await getRoute(deps, id);
  return commitTopologyChange(deps, actor, listener.clusterId, async (tx) => {
    await tx.route.delete({ where: { id } });
    return { result: { id }, audit: { action: "route.delete", targetType: "route", targetId: id, before } };
  });
}
