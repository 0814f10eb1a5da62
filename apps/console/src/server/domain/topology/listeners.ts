import type { Prisma } from "@fulcrum/db";
import type { z } from "zod";
import { NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { listenerInput, listenerUpdate } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getCluster } from "./clusters";

const json = (v: unknown) => v as Prisma.InputJsonValue;

export async function listListeners(deps: TopologyDeps, clusterId: string) {
  return deps.prisma.listener.findMany({
    where: { clusterId },
    orderBy: [{ port: "asc" }, { name: "asc" }],
    include: {
      routes: { include: { pool: { select: { id: true, name: true } } }, orderBy: { priority: "desc" } },
    },
  });
}

export async function getListener(deps: TopologyDeps, id: string) {
  const listener = await deps.prisma.listener.findUnique({ where: { id } });
  if (!listener) throw new NotFoundError("Listener", id);
  return listener;
}

export async function createListener(deps: TopologyDeps, actor: Actor, input: z.infer<typeof listenerInput>) {
  await getCluster(deps, input.clusterId);
  return commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const after = await tx.listener.create({ data: { ...input, settings: json(input.settings) } });
    return {
      result: after,
      audit: { action: "listener.create", targetType: "listener", targetId: after.id, after },
    };
  });
}

export async function updateListener(
  deps: TopologyDeps,
  actor: Actor,
  input: z.infer<typeof listenerUpdate>,
) {
  const before = await getListener(deps, input.id);
  const { id, settings, ...data } = input;
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const after = await tx.listener.update({
      where: { id },
      data: { ...data, ...(settings ? { settings: json(settings) } : {}) },
    });
    return {
      result: after,
      audit: { action: "listener.update", targetType: "listener", targetId: id, before, after },
    };
  });
}

export async function deleteListener(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await getListener(deps, id);
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    await tx.listener.delete({ where: { id } });
    return {
      result: { id },
      audit: { action: "listener.delete", targetType: "listener", targetId: id, before },
    };
  });
}
