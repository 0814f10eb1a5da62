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

/** What the board shows of a backend: no limits, URLs or timestamps. */
export const BOARD_BACKEND = {
  id: true,
  poolId: true,
  name: true,
  address: true,
  port: true,
  weight: true,
  state: true,
  backup: true,
} as const satisfies Prisma.BackendSelect;

/** The board's order within a pool (the unique index's columns, so it is also the page order). */
export const BACKEND_ORDER = [
  { address: "asc" },
  { port: "asc" },
] as const satisfies Prisma.BackendOrderByWithRelationInput[];

/**
 * Every pool of a cluster with its backends in the board's lean shape: one
 * query for the whole board (10,000 backends are about 1 MB of JSON; the full
 * rows of `listPools` are three times that).
 */
export async function listPoolBoard(deps: TopologyDeps, clusterId: string) {
  return deps.prisma.pool.findMany({
    where: { clusterId },
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      policy: true,
      slowStartMs: true,
      backends: { select: BOARD_BACKEND, orderBy: [...BACKEND_ORDER] },
    },
  });
}

/** A pool's settings and counts, without its backends (the pool page pages through those). */
export async function getPoolSummary(deps: TopologyDeps, id: string) {
  const pool = await deps.prisma.pool.findUnique({
    where: { id },
    include: { _count: { select: { routes: true, backends: true } } },
  });
  if (!pool) throw new NotFoundError("Pool", id);
  const byState = await deps.prisma.backend.groupBy({
    by: ["state"],
    where: { poolId: id },
    _count: { _all: true },
  });
  const states = { enabled: 0, draining: 0, disabled: 0 };
  for (const row of byState) states[row.state] = row._count._all;
  return { ...pool, states };
}

/** A pool's own row, without its backends (which can be thousands). */
export async function getPoolRow(deps: TopologyDeps, id: string) {
  const pool = await deps.prisma.pool.findUnique({ where: { id } });
  if (!pool) throw new NotFoundError("Pool", id);
  return pool;
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
  const before = await getPoolRow(deps, input.id);
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
