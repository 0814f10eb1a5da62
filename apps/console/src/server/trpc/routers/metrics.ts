import { z } from "zod";
import { poolHealthEvents, poolHealthTimeline } from "../../domain/metrics/health";
import { livePoolBackends, liveSeries } from "../../domain/metrics/live";
import { configMarkers } from "../../domain/metrics/markers";
import { clusterOverview } from "../../domain/metrics/overview";
import { metricSeries, poolBackendSeries } from "../../domain/metrics/series";
import { RANGES, SCOPES } from "../../metrics/aggregate";
import { procedure, router } from "../init";

const clusterId = z.string().uuid("That id is not valid.");
const scope = z.enum(SCOPES);
const range = z.enum(RANGES);
const seriesId = z.string().min(1).max(200).optional();
/** Epoch ms. */
const epochMs = z.number().finite().min(0);
const MAX_TIMELINE_MS = 86_400_000;

export const metricsRouter = router({
  series: procedure("cluster.read")
    .input(z.object({ clusterId, scope, id: seriesId, range }))
    .query(({ ctx, input }) => metricSeries(ctx.services, input)),

  poolBackends: procedure("cluster.read")
    .input(z.object({ clusterId, poolId: clusterId, range }))
    .query(({ ctx, input }) => poolBackendSeries(ctx.services, input)),

  live: procedure("cluster.read")
    .input(z.object({ clusterId, scope, id: seriesId }))
    .subscription(({ ctx, input, signal }) => liveSeries(ctx.services, input, signal)),

  liveBackends: procedure("cluster.read")
    .input(z.object({ clusterId, poolId: clusterId }))
    .subscription(({ ctx, input, signal }) => livePoolBackends(ctx.services, input, signal)),

  /** Backend health changes agents reported for a pool, oldest first: the health timeline's history. */
  healthEvents: procedure("cluster.read")
    .input(
      z
        .object({ clusterId, poolId: z.string().uuid(), from: epochMs, to: epochMs })
        .refine((v) => v.from <= v.to, { message: "from must not be after to", path: ["from"] }),
    )
    .query(({ ctx, input }) => poolHealthEvents(ctx.services, input)),
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
    .query(({ ctx, input }) => poolHealthTimeline(ctx.services, input)),
  markers: procedure("cluster.read")
    .input(
      z
        .object({ clusterId, from: epochMs, to: epochMs })
        .refine((v) => v.from <= v.to, { message: "from must not be after to", path: ["from"] }),
    )
    .query(({ ctx, input }) => configMarkers(ctx.services, input)),

  overview: procedure("cluster.read")
    .input(z.object({ clusterId }))
    .query(({ ctx, input }) => clusterOverview(ctx.services, input.clusterId)),
});
