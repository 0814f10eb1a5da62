import { Prisma, type PrismaClient } from "@fulcrum/db";
import { type Agg, aggFromJson, aggToJson, type Scope } from "./aggregate";

/**
 * The SQL of the `metric_rollups` table (and of retention's deletes): the
 * only place that knows how an aggregate is stored as rows, so the flush,
 * the queries and retention never build SQL themselves.
 */

export interface RollupRow {
  clusterId: string;
  scope: Scope;
  scopeId: string;
  /** Epoch ms, start of the minute. */
  minute: number;
  agg: Agg;
}

const CHUNK = 200;

/** TIMESTAMP(3) columns hold UTC wall time; pass it as text so no driver shifts it. */
const utc = (ms: number) => new Date(ms).toISOString().slice(0, -1);

/** jsonb objects of numbers, added key by key. */
const sumJson = (col: string) =>
  Prisma.raw(
    `COALESCE((SELECT jsonb_object_agg(k, COALESCE(("metric_rollups"."${col}"->>k)::float8, 0) + COALESCE((EXCLUDED."${col}"->>k)::float8, 0)) FROM jsonb_object_keys("metric_rollups"."${col}" || EXCLUDED."${col}") AS k), '{}'::jsonb)`,
  );

/**
 * Upsert-merge: a row that exists (another console's share, or an earlier
 * flush of the same minute before late points arrived) gets these added.
 */
export async function writeRollups(prisma: PrismaClient, rows: readonly RollupRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => {
      const { counters, latency } = aggToJson(r.agg);
      return Prisma.sql`(${r.clusterId}, ${r.scope}, ${r.scopeId}, ${utc(r.minute)}::timestamp(3), ${JSON.stringify(counters)}::jsonb, ${JSON.stringify(latency)}::jsonb, CURRENT_TIMESTAMP)`;
    });
    await prisma.$executeRaw`
      INSERT INTO "metric_rollups" ("clusterId", "scope", "scopeId", "minute", "counters", "latency", "updatedAt")
      VALUES ${Prisma.join(values)}
      ON CONFLICT ("clusterId", "scope", "scopeId", "minute") DO UPDATE SET
        "counters" = ${sumJson("counters")},
        "latency" = ${sumJson("latency")},
        "updatedAt" = CURRENT_TIMESTAMP`;
  }
}

/** Rollups of the given series in [from, to). */
export async function readRollups(
  prisma: PrismaClient,
  clusterId: string,
  scope: Scope,
  ids: readonly string[],
  from: number,
  to: number,
): Promise<RollupRow[]> {
  if (ids.length === 0) return [];
  const rows = await prisma.metricRollup.findMany({
    where: {
      clusterId,
      scope,
      scopeId: ids.length === 1 ? ids[0] : { in: [...ids] },
      minute: { gte: new Date(from), lt: new Date(to) },
    },
  });
  return rows.map((r) => ({
    clusterId: r.clusterId,
    scope: r.scope as Scope,
    scopeId: r.scopeId,
    minute: r.minute.getTime(),
    agg: aggFromJson(r.counters, r.latency),
  }));
}

/** Minutes in [from, to) for which any agent of the cluster reported (the cluster row exists). */
export async function reportedMinutes(
  prisma: PrismaClient,
  clusterId: string,
  from: number,
  to: number,
): Promise<Set<number>> {
  const rows = await prisma.metricRollup.findMany({
    where: { clusterId, scope: "cluster", scopeId: "", minute: { gte: new Date(from), lt: new Date(to) } },
    select: { minute: true },
  });
  return new Set(rows.map((r) => r.minute.getTime()));
}

/** Deletes rollups and agent config events older than `cutoff`. */
export async function deleteOlderThan(prisma: PrismaClient, cutoff: number) {
  const rollups = await prisma.metricRollup.deleteMany({ where: { minute: { lt: new Date(cutoff) } } });
  const events = await prisma.agentConfigEvent.deleteMany({ where: { at: { lt: new Date(cutoff) } } });
  const health = await prisma.healthEvent.deleteMany({ where: { at: { lt: new Date(cutoff) } } });
  return { rollups: rollups.count, events: events.count, health: health.count };
}
