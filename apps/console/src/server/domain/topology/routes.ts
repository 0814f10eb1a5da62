import type { Prisma } from "@fulcrum/db";
import type { z } from "zod";
import { InvalidInputError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { routeInput, routeUpdate } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getListener } from "./listeners";

const json = (v: unknown) => v as Prisma.InputJsonValue;

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

type RouteFields = { host?: string | undefined; action?: "proxy" | "redirect" | undefined };

/**
 * What a route means depends on its listener: on a dns listener the host is the
 * name answered for (exact or "*.suffix", never empty) and there is nothing to
 * redirect; on http a host is matched exactly; only http can redirect.
 */
function assertFitsListener(protocol: "http" | "tcp" | "dns", r: RouteFields) {
  const fields: Record<string, string> = {};
  if (protocol === "dns") {
    if (r.host === "")
      fields.host = "A DNS route answers for a name: enter one, such as www.example.com or *.example.com.";
    if (r.action === "redirect")
      fields.action = "DNS listeners answer with addresses; redirect is for HTTP listeners.";
  } else {
    if (r.host?.startsWith("*."))
      fields.host = "Wildcard names are for DNS listeners; an HTTP route matches one host.";
    if (protocol === "tcp" && r.action === "redirect")
      fields.action = "TCP listeners cannot redirect; choose proxy.";
  }
  const first = Object.values(fields)[0];
  if (first) throw new InvalidInputError(first, fields);
}

export async function createRoute(deps: TopologyDeps, actor: Actor, input: z.infer<typeof routeInput>) {
  const listener = await getListener(deps, input.listenerId);
  assertFitsListener(listener.protocol, input);
  await assertPoolInCluster(deps, input.poolId, listener.clusterId);
  const data = { ...input, redirect: json(input.redirect) };
  return commitTopologyChange(deps, actor, listener.clusterId, async (tx) => {
    const after = await tx.route.create({ data });
    return {
      result: after,
      audit: { action: "route.create", targetType: "route", targetId: after.id, after },
    };
  });
}

export async function updateRoute(deps: TopologyDeps, actor: Actor, input: z.infer<typeof routeUpdate>) {
  const { listener, ...before } = await getRoute(deps, input.id);
  assertFitsListener(listener.protocol, { host: input.host, action: input.action });
  if (input.poolId) await assertPoolInCluster(deps, input.poolId, listener.clusterId);
  const { id, redirect, ...rest } = input;
  const data = { ...rest, ...(redirect ? { redirect: json(redirect) } : {}) };
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
