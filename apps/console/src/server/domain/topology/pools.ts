import { Prisma } from "@fulcrum/db";
import { z } from "zod";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors";
import { poolBackendKey, RANGES } from "../../metrics/aggregate";
import type { MetricsStore } from "../../metrics/store";
import type { Actor } from "../actor";
import { idSchema, type poolInput, type poolUpdate, upstreamTlsProblem } from "../schemas";
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

/** A backend as `listPoolBoard` returns it. */
export type BoardBackendRow = Prisma.BackendGetPayload<{ select: typeof BOARD_BACKEND }>;

/**
 * Every pool of a cluster with its backends in the board's lean shape. The
 * backends come as one JSON array per pool built by the database: 10,000 rows
 * one by one cost about a second through the embedded PGlite, one aggregate
 * row a fifth of that (same order as `BACKEND_ORDER` and the pages).
 */
export async function listPoolBoard(deps: TopologyDeps, clusterId: string) {
  const [pools, grouped] = await Promise.all([
    deps.prisma.pool.findMany({
      where: { clusterId },
      orderBy: { name: "asc" },
      select: { id: true, name: true, policy: true, slowStartMs: true },
    }),
    deps.prisma.$queryRaw<Array<{ poolId: string; backends: string }>>`
      SELECT b."poolId", json_agg(json_build_object(
        'id', b.id, 'poolId', b."poolId", 'name', b.name, 'address', b.address, 'port', b.port,
        'weight', b.weight, 'state', b.state, 'backup', b.backup
      ) ORDER BY b.address, b.port)::text AS backends
      FROM backends b JOIN pools p ON p.id = b."poolId"
      WHERE p."clusterId" = ${clusterId}
      GROUP BY b."poolId"`,
  ]);
  const byPool = new Map(grouped.map((g) => [g.poolId, g.backends]));
  return pools.map((p) => {
    const json = byPool.get(p.id);
    const backends: BoardBackendRow[] = json ? JSON.parse(json) : [];
    return { ...p, backends };
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

export const CARD_METRICS_MAX = 100;

export const cardMetricsInput = z.object({
  clusterId: idSchema,
  poolId: idSchema,
  ids: z.array(idSchema).max(CARD_METRICS_MAX, `At most ${CARD_METRICS_MAX} backends at a time.`),
  range: z.enum(RANGES).default("5m"),
});

/**
 * Requests/s over a range (the board's: five minutes) and the health of the
 * backends whose cards or rows are on screen, in this pool: one request per column, sized by what is
 * shown (the whole pool's series are 300 points for each of 10,000 backends).
 */
export async function backendCardMetrics(
  deps: TopologyDeps,
  metrics: MetricsStore,
  input: z.infer<typeof cardMetricsInput>,
) {
  const { clusterId, poolId } = input;
  const pool = await deps.prisma.pool.findFirst({ where: { id: poolId, clusterId }, select: { id: true } });
  if (!pool) throw new NotFoundError("Pool", poolId);
  const ids = [...new Set(input.ids)];
  const keys = ids.map((id) => poolBackendKey(poolId, id));
  const { stepMs, series } = await metrics.series(clusterId, "pool_backend", keys, input.range);
  return {
    stepMs,
    series: Object.fromEntries(ids.map((id, i) => [id, series.get(keys[i]!) ?? []])),
    status: Object.fromEntries(ids.map((id) => [id, metrics.backendStatusOf(id, poolId)])),
  };
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
        tls: input.tls === null ? Prisma.DbNull : json(input.tls),
        upstream: input.upstream === null ? Prisma.DbNull : json(input.upstream),
      },
    });
    return { result: after, audit: { action: "pool.create", targetType: "pool", targetId: after.id, after } };
  });
}

export async function updatePool(deps: TopologyDeps, actor: Actor, input: z.infer<typeof poolUpdate>) {
  const before = await getPoolRow(deps, input.id);
  const {
    id,
    policyOptions,
    healthCheck,
    persistence,
    outlierDetection,
    retries,
    limits,
    tls,
    upstream,
    ...rest
  } = input;
  // An update may name only one of tls and upstream: check the pair as it will be stored.
  const effectiveUpstream =
    upstream !== undefined ? upstream : (before.upstream as { protocol: string } | null);
  const effectiveTls = tls !== undefined ? tls : before.tls;
  const problem = upstreamTlsProblem(effectiveUpstream?.protocol, Boolean(effectiveTls));
  if (problem) throw new InvalidInputError(problem, { "upstream.protocol": problem });
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
        ...(tls !== undefined ? { tls: tls === null ? Prisma.DbNull : json(tls) } : {}),
        ...(upstream !== undefined ? { upstream: upstream === null ? Prisma.DbNull : json(upstream) } : {}),
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
