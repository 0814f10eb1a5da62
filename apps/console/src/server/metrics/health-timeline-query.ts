import type { PrismaClient } from "@fulcrum/db";
import type { BackendStatus } from "@fulcrum/protocol";
import {
  buildHealthTimeline,
  type HealthEventState,
  type TimelineConfig,
  type TimelineEvent,
  type TimelinePoint,
} from "./health-timeline";

export type { BackendStatus };

/** Config versions read per timeline at most (a busy day of changes). */
const MAX_CONFIGS = 1000;
/** Events read from the range at most; the newest are kept. */
const MAX_EVENTS = 5000;

interface SnapshotLike {
  pools?: Array<{
    id: string;
    healthCheck?: { type?: string };
    backends?: Array<{ id: string; state: "enabled" | "draining" | "disabled" }>;
  }>;
}

function poolConfig(t: number, snapshot: unknown, poolId: string): TimelineConfig {
  const pool = (snapshot as SnapshotLike).pools?.find((p) => p.id === poolId);
  return {
    t,
    backends: new Map((pool?.backends ?? []).map((b) => [b.id, b.state])),
    checked: (pool?.healthCheck?.type ?? "none") !== "none",
  };
}

/**
 * Reads what the timeline of one pool over [from, to] needs: the config version
 * in force at `from` and those after it, each agent's latest event of every kind
 * before `from` (what it carries in) and the events in the range.
 */
export async function healthTimeline(
  prisma: PrismaClient,
  q: { clusterId: string; poolId: string; from: number; to: number },
): Promise<Record<string, TimelinePoint[]>> {
  const from = new Date(q.from);
  const to = new Date(q.to);
  const [pool, before, versions, carried, events, firstAck] = await Promise.all([
    prisma.pool.findFirst({
      where: { id: q.poolId, clusterId: q.clusterId },
      select: { backends: { select: { id: true }, orderBy: { createdAt: "asc" } } },
    }),
    prisma.configVersion.findFirst({
      where: { clusterId: q.clusterId, createdAt: { lt: from } },
      orderBy: { version: "desc" },
      select: { createdAt: true, snapshot: true },
    }),
    prisma.configVersion.findMany({
      where: { clusterId: q.clusterId, createdAt: { gte: from, lte: to } },
      orderBy: { version: "asc" },
      select: { createdAt: true, snapshot: true },
      take: MAX_CONFIGS,
    }),
    // Per agent (still enrolled), backend and kind of event: the latest before the range.
    prisma.$queryRaw<
      Array<{ agentId: string; backendId: string; state: string; reason: string | null; at: Date }>
    >`
      SELECT DISTINCT ON (e."agentId", e."backendId", e."state")
             e."agentId", e."backendId", e."state", e."reason", e."at"
        FROM health_events e
        JOIN agents a ON a.id = e."agentId" AND a."revokedAt" IS NULL
       WHERE e."clusterId" = ${q.clusterId} AND e."poolId" = ${q.poolId} AND e."at" < ${from}
       ORDER BY e."agentId", e."backendId", e."state", e."at" DESC`,
    prisma.healthEvent.findMany({
      where: { clusterId: q.clusterId, poolId: q.poolId, at: { gte: from, lte: to } },
      orderBy: { at: "desc" },
      take: MAX_EVENTS,
      select: { agentId: true, backendId: true, state: true, reason: true, at: true },
    }),
    prisma.agentConfigEvent.findFirst({
      where: { clusterId: q.clusterId, kind: "ack", at: { lte: to } },
      orderBy: { at: "asc" },
      select: { at: true },
    }),
  ]);
  const configs: TimelineConfig[] = [];
  if (before) configs.push(poolConfig(before.createdAt.getTime(), before.snapshot, q.poolId));
  for (const v of versions) configs.push(poolConfig(v.createdAt.getTime(), v.snapshot, q.poolId));
  const toEvent = (r: {
    agentId: string;
    backendId: string;
    state: string;
    reason: string | null;
    at: Date;
  }): TimelineEvent => ({
    t: r.at.getTime(),
    agentId: r.agentId,
    backendId: r.backendId,
    state: r.state as HealthEventState,
    reason: r.reason,
  });
  const all = [...carried.map(toEvent), ...events.reverse().map(toEvent)].sort((a, b) => a.t - b.t);
  const ids = new Set((pool?.backends ?? []).map((b) => b.id));
  for (const c of configs) for (const id of c.backends.keys()) ids.add(id);
  return buildHealthTimeline({
    from: q.from,
    to: q.to,
    configs,
    events: all,
    backendIds: [...ids],
    servingSince: firstAck?.at.getTime(),
  });
}
