import type { PrismaClient } from "@fulcrum/db";
import { z } from "zod";
import { clusterOverview } from "../../domain/metrics/overview";
import { InvalidInputError, NotFoundError } from "../../errors";
import {
  type BackendStatus,
  poolBackendKey,
  RANGES,
  SCOPES,
  type Scope,
  type SeriesPoint,
} from "../../metrics/aggregate";
import { healthTimeline, type BackendStatus as TimelineStatus } from "../../metrics/health-timeline-query";
import type { MetricsStore } from "../../metrics/store";
import { procedure, router } from "../init";

const clusterId = z.string().uuid("That id is not valid.");
const scope = z.enum(SCOPES);
const range = z.enum(RANGES);
const seriesId = z.string().min(1).max(200).optional();
/** Epoch ms. */
const epochMs = z.number().finite().min(0);
const MAX_MARKERS = 2000;
const MAX_TIMELINE_MS = 86_400_000;

async function requireCluster(prisma: PrismaClient, id: string): Promise<void> {
  const found = await prisma.cluster.findUnique({ where: { id }, select: { id: true } });
  if (!found) throw new NotFoundError("Cluster", id);
}

function seriesKey(s: Scope, id: string | undefined): string {
  if (s === "cluster") return "";
  if (!id) throw new InvalidInputError(`Choose which ${s} to show.`, { id: `Choose which ${s} to show.` });
  return id;
}

/** The pool's backends: configured ones (also those without traffic yet) and any this console saw traffic for. */
async function poolBackendIds(
  prisma: PrismaClient,
  metrics: MetricsStore,
  clusterId: string,
  poolId: string,
): Promise<string[]> {
  const pool = await prisma.pool.findFirst({
    where: { id: poolId, clusterId },
    select: { backends: { select: { id: true }, orderBy: { createdAt: "asc" } } },
  });
  if (!pool) throw new NotFoundError("Pool", poolId);
  return [...new Set([...pool.backends.map((b) => b.id), ...metrics.knownBackends(poolId)])];
}

export const metricsRouter = router({
  series: procedure("cluster.read")
    .input(z.object({ clusterId, scope, id: seriesId, range }))
    .query(async ({ ctx, input }): Promise<{ stepMs: number; points: SeriesPoint[] }> => {
      const id = seriesKey(input.scope, input.id);
      await requireCluster(ctx.services.prisma, input.clusterId);
      const { stepMs, series } = await ctx.services.metrics.series(
        input.clusterId,
        input.scope,
        [id],
        input.range,
      );
      return { stepMs, points: series.get(id) ?? [] };
    }),

  poolBackends: procedure("cluster.read")
    .input(z.object({ clusterId, poolId: clusterId, range }))
    .query(
      async ({
        ctx,
        input,
      }): Promise<{
        stepMs: number;
        series: Record<string, SeriesPoint[]>;
        status: Record<string, BackendStatus>;
      }> => {
        const { metrics, prisma } = ctx.services;
        const ids = await poolBackendIds(prisma, metrics, input.clusterId, input.poolId);
        // Each backend's traffic in this pool, not wherever else it has been.
        const keys = ids.map((id) => poolBackendKey(input.poolId, id));
        const { stepMs, series } = await metrics.series(input.clusterId, "pool_backend", keys, input.range);
        return {
          stepMs,
          series: Object.fromEntries(ids.map((id, i) => [id, series.get(keys[i]!) ?? []])),
          status: Object.fromEntries(ids.map((id) => [id, metrics.backendStatusOf(id, input.poolId)])),
        };
      },
    ),

  live: procedure("cluster.read")
    .input(z.object({ clusterId, scope, id: seriesId }))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<SeriesPoint> {
      const id = seriesKey(input.scope, input.id);
      await requireCluster(ctx.services.prisma, input.clusterId);
      yield* ctx.services.metrics.live(input.clusterId, input.scope, id, signal);
    }),

  liveBackends: procedure("cluster.read")
    .input(z.object({ clusterId, poolId: clusterId }))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<{
      t: number;
      points: Record<string, SeriesPoint>;
      status: Record<string, BackendStatus>;
    }> {
      const { metrics, prisma } = ctx.services;
      let configured = await poolBackendIds(prisma, metrics, input.clusterId, input.poolId);
      let refreshedAt = Date.now();
      for await (const sec of metrics.seconds(signal)) {
        if (Date.now() - refreshedAt > 30_000) {
          refreshedAt = Date.now();
          configured = await poolBackendIds(prisma, metrics, input.clusterId, input.poolId).catch(
            () => configured,
          );
        }
        const ids = [...new Set([...configured, ...metrics.knownBackends(input.poolId)])];
        const points: Record<string, SeriesPoint> = {};
        for (const id of ids) {
          const p = metrics.pointAt(input.clusterId, "pool_backend", poolBackendKey(input.poolId, id), sec);
          if (p) points[id] = p;
        }
        if (Object.keys(points).length === 0) continue;
        yield {
          t: sec * 1000,
          points,
          status: Object.fromEntries(ids.map((id) => [id, metrics.backendStatusOf(id, input.poolId)])),
        };
      }
    }),

  /** Backend health changes agents reported for a pool, oldest first: the health timeline's history. */
  healthEvents: procedure("cluster.read")
    .input(
      z
        .object({ clusterId, poolId: z.string().uuid(), from: epochMs, to: epochMs })
        .refine((v) => v.from <= v.to, { message: "from must not be after to", path: ["from"] }),
    )
    .query(async ({ ctx, input }) => {
      await requireCluster(ctx.services.prisma, input.clusterId);
      const rows = await ctx.services.prisma.healthEvent.findMany({
        where: {
          clusterId: input.clusterId,
          poolId: input.poolId,
          at: { gte: new Date(input.from), lte: new Date(input.to) },
        },
        orderBy: { at: "desc" },
        take: MAX_MARKERS,
      });
      return rows.reverse().map((r) => ({
        t: r.at.getTime(),
        backendId: r.backendId,
        state: r.state as "up" | "down" | "ejected" | "restored" | "drained",
        agentName: r.agentName,
        ...(r.reason ? { reason: r.reason } : {}),
      }));
    }),
  /**
   * Each backend's status over [from, to] as the agents reported it (health events and
   * configured states), starting with the state carried in at `from`: the health timeline.
   */
  healthTimeline: procedure("cluster.read")
    .input(
      z
        .object({ clusterId, poolId: z.string().uuid(), from: epochMs, to: epochMs })
        .refine((v) => v.from <= v.to, { message: "from must not be after to", path: ["from"] })
        .refine((v) => v.to - v.from <= MAX_TIMELINE_MS, {
          message: "Choose a range of at most a day.",
          path: ["from"],
        }),
    )
    .query(
      async ({
        ctx,
        input,
      }): Promise<Record<string, Array<{ t: number; status: TimelineStatus | null; reason?: string }>>> => {
        await requireCluster(ctx.services.prisma, input.clusterId);
        return healthTimeline(ctx.services.prisma, input);
      },
    ),
  markers: procedure("cluster.read")
    .input(
      z
        .object({ clusterId, from: epochMs, to: epochMs })
        .refine((v) => v.from <= v.to, { message: "from must not be after to", path: ["from"] }),
    )
    .query(async ({ ctx, input }) => {
      const { prisma } = ctx.services;
      await requireCluster(prisma, input.clusterId);
      const between = { gte: new Date(input.from), lte: new Date(input.to) };
      const [versions, events] = await Promise.all([
        prisma.configVersion.findMany({
          where: { clusterId: input.clusterId, createdAt: between },
          select: { version: true, authorName: true, createdAt: true },
          orderBy: { createdAt: "desc" },
          take: MAX_MARKERS,
        }),
        prisma.agentConfigEvent.findMany({
          where: { clusterId: input.clusterId, at: between },
          orderBy: { at: "desc" },
          take: MAX_MARKERS,
        }),
      ]);
      const markers: Array<{
        t: number;
        kind: "config" | "ack" | "nack";
        version: number;
        author?: string;
        agentName?: string;
        reason?: string;
      }> = [
        ...versions.map((v) => ({
          t: v.createdAt.getTime(),
          kind: "config" as const,
          version: v.version,
          author: v.authorName,
        })),
        ...events.map((e) => ({
          t: e.at.getTime(),
          kind: e.kind === "nack" ? ("nack" as const) : ("ack" as const),
          version: e.version,
          agentName: e.agentName,
          ...(e.reason ? { reason: e.reason } : {}),
        })),
      ];
      return markers.sort((a, b) => a.t - b.t || a.version - b.version);
    }),

  overview: procedure("cluster.read")
    .input(z.object({ clusterId }))
    .query(({ ctx, input }) => clusterOverview(ctx.services, input.clusterId)),
});
