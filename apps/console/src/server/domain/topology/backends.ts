import { z } from "zod";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import type { AuditInput } from "../audit";
import type { BackendMoveInput, BulkSetStateInput, BulkSetWeightInput } from "../changes/requests";
import { backendInput, type backendUpdate, idSchema } from "../schemas";
import { commitTopologyChange, commitTopologyChangeVersioned, type TopologyDeps } from "../topology-change";
import { BACKEND_ORDER, BOARD_BACKEND, getPoolRow } from "./pools";

async function getBackend(deps: TopologyDeps, id: string) {
  const backend = await deps.prisma.backend.findUnique({ where: { id }, include: { pool: true } });
  if (!backend) throw new NotFoundError("Backend", id);
  return backend;
}

export async function createBackend(deps: TopologyDeps, actor: Actor, input: z.infer<typeof backendInput>) {
  const pool = await getPoolRow(deps, input.poolId);
  return commitTopologyChange(deps, actor, pool.clusterId, async (tx) => {
    const after = await tx.backend.create({ data: input });
    return {
      result: after,
      audit: { action: "backend.create", targetType: "backend", targetId: after.id, after },
    };
  });
}

export const BACKEND_BATCH_MAX = 1000;

export const createBackendsInput = z.object({
  poolId: idSchema,
  backends: z
    .array(backendInput.omit({ poolId: true }))
    .min(1, "Add at least one backend.")
    .max(BACKEND_BATCH_MAX, `At most ${BACKEND_BATCH_MAX} backends at a time.`),
});

/**
 * Adds up to 1,000 backends to one pool in one transaction and one config
 * version (one audit entry each): importing a large pool one backend at a
 * time would build and push a snapshot per backend. An address:port already
 * in the pool, or listed twice, refuses the whole batch.
 */
export async function createBackends(
  deps: TopologyDeps,
  actor: Actor,
  input: z.infer<typeof createBackendsInput>,
) {
  const pool = await getPoolRow(deps, input.poolId);
  const seen = new Set<string>();
  for (const b of input.backends) {
    const key = endpoint(b.address, b.port);
    if (seen.has(key)) {
      throw new InvalidInputError(`${key} is listed twice.`, { backends: `${key} is listed twice.` });
    }
    seen.add(key);
  }
  const { result, version } = await commitTopologyChangeVersioned(deps, actor, pool.clusterId, async (tx) => {
    const created = await tx.backend.createManyAndReturn({
      data: input.backends.map((b) => ({ ...b, poolId: pool.id })),
    });
    const audit: AuditInput[] = created.map((after) => ({
      action: "backend.create",
      targetType: "backend",
      targetId: after.id,
      after,
    }));
    return { result: created.map((b) => b.id), audit };
  });
  return { version, ids: result };
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

/** The backends of `ids`, all of one cluster; the cluster's id. */
async function backendsOfOneCluster(deps: TopologyDeps, ids: readonly string[]) {
  if (new Set(ids).size !== ids.length) {
    throw new InvalidInputError("The same backend is listed twice.", {
      ids: "The same backend is listed twice.",
    });
  }
  const rows = await deps.prisma.backend.findMany({
    where: { id: { in: [...ids] } },
    include: { pool: true },
  });
  const byId = new Map(rows.map((b) => [b.id, b]));
  const missing = ids.find((id) => !byId.has(id));
  if (missing) throw new NotFoundError("Backend", missing);
  const clusters = new Set(rows.map((b) => b.pool.clusterId));
  if (clusters.size > 1) throw new InvalidInputError(ONE_CLUSTER);
  return { backends: ids.map((id) => byId.get(id)!), clusterId: [...clusters][0]! };
}

const ONE_CLUSTER = "All selected backends and target pools must belong to one cluster.";

const endpoint = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * Moves backends to other pools of their cluster, keeping their ids (so undo
 * is a move back). One transaction, one audit entry per moved backend, one
 * config version; a target pool that already has the address:port refuses the
 * whole move with a ConflictError naming it.
 */
export async function moveBackends(deps: TopologyDeps, actor: Actor, input: BackendMoveInput) {
  const { backends, clusterId } = await backendsOfOneCluster(
    deps,
    input.moves.map((m) => m.id),
  );
  const targetIds = [...new Set(input.moves.map((m) => m.poolId))];
  const pools = await deps.prisma.pool.findMany({ where: { id: { in: targetIds } } });
  const poolById = new Map(pools.map((p) => [p.id, p]));
  const missingPool = targetIds.find((id) => !poolById.has(id));
  if (missingPool) throw new NotFoundError("Pool", missingPool);
  if (pools.some((p) => p.clusterId !== clusterId)) throw new InvalidInputError(ONE_CLUSTER);
  const targetOf = new Map(input.moves.map((m) => [m.id, m.poolId]));
  const moving = backends.filter((b) => b.poolId !== targetOf.get(b.id));

  const { result, version } = await commitTopologyChangeVersioned(deps, actor, clusterId, async (tx) => {
    // Checked under the cluster lock against what stays in the target pools and what else moves there.
    const movingIds = new Set(moving.map((b) => b.id));
    const staying = await tx.backend.findMany({
      where: { poolId: { in: targetIds }, id: { notIn: [...movingIds] } },
    });
    const taken = new Map(staying.map((b) => [`${b.poolId} ${b.address} ${b.port}`, b]));
    for (const b of moving) {
      const poolId = targetOf.get(b.id)!;
      const key = `${poolId} ${b.address} ${b.port}`;
      const other = taken.get(key);
      if (other) {
        const pool = poolById.get(poolId)!;
        const who = other.name
          ? `${other.name} (${endpoint(other.address, other.port)})`
          : endpoint(b.address, b.port);
        throw new ConflictError(
          `Pool ${pool.name} already has a backend at ${who}; it cannot take ${b.name || endpoint(b.address, b.port)}.`,
          {
            moves: `Pool ${pool.name} already has a backend at ${endpoint(b.address, b.port)}.`,
          },
        );
      }
      taken.set(key, b);
    }
    const audit: AuditInput[] = [];
    for (const { pool, ...before } of moving) {
      const after = await tx.backend.update({
        where: { id: before.id },
        data: { poolId: targetOf.get(before.id)! },
      });
      audit.push({
        action: "backend.move",
        targetType: "backend",
        targetId: before.id,
        before: { ...before, poolName: pool.name },
        after: { ...after, poolName: poolById.get(after.poolId)!.name },
      });
    }
    const result = await tx.backend.findMany({ where: { id: { in: backends.map((b) => b.id) } } });
    return { result, audit };
  });
  return { version, backends: result };
}

/** Drains, enables or disables several backends in one transaction and one config version. */
export async function bulkSetBackendState(deps: TopologyDeps, actor: Actor, input: BulkSetStateInput) {
  return bulkUpdate(deps, actor, input.ids, { state: input.state }, `backend.${input.state}`);
}

/** Sets one weight on several backends in one transaction and one config version. */
export async function bulkSetBackendWeight(deps: TopologyDeps, actor: Actor, input: BulkSetWeightInput) {
  return bulkUpdate(deps, actor, input.ids, { weight: input.weight }, "backend.update");
}

async function bulkUpdate(
  deps: TopologyDeps,
  actor: Actor,
  ids: readonly string[],
  data: { state?: BulkSetStateInput["state"]; weight?: number },
  action: string,
) {
  const { backends, clusterId } = await backendsOfOneCluster(deps, ids);
  const { result, version } = await commitTopologyChangeVersioned(deps, actor, clusterId, async (tx) => {
    const audit: AuditInput[] = [];
    const result = [];
    for (const { pool: _p, ...before } of backends) {
      const after = await tx.backend.update({ where: { id: before.id }, data });
      result.push(after);
      if (after.state !== before.state || after.weight !== before.weight) {
        audit.push({ action, targetType: "backend", targetId: before.id, before, after });
      }
    }
    return { result, audit };
  });
  return { version, backends: result };
}

export const BACKEND_PAGE_MAX = 200;

/** Where a page starts: after this backend in the pool's order (address, then port; unique in a pool). */
const backendCursor = z.object({
  address: z.string().min(1).max(253),
  port: z.number().int().min(0).max(65535),
});

export const poolBackendsInput = z.object({
  poolId: idSchema,
  cursor: backendCursor.nullish(),
  limit: z.number().int().min(1).max(BACKEND_PAGE_MAX).default(50),
});

/**
 * One page of a pool's backends in the board's order. The cursor is the last
 * backend's address and port rather than its id, so a page still continues
 * where it left off when that backend was moved or deleted meanwhile.
 */
export async function listPoolBackends(deps: TopologyDeps, input: z.infer<typeof poolBackendsInput>) {
  const { poolId, cursor, limit } = input;
  const pool = await deps.prisma.pool.findUnique({ where: { id: poolId }, select: { id: true } });
  if (!pool) throw new NotFoundError("Pool", poolId);
  const after = cursor
    ? {
        OR: [{ address: { gt: cursor.address } }, { address: cursor.address, port: { gt: cursor.port } }],
      }
    : {};
  const [rows, total] = await Promise.all([
    deps.prisma.backend.findMany({
      where: { poolId, ...after },
      orderBy: [...BACKEND_ORDER],
      take: limit + 1,
      select: BOARD_BACKEND,
    }),
    deps.prisma.backend.count({ where: { poolId } }),
  ]);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? { address: last.address, port: last.port } : null;
  return { items, nextCursor, total };
}
