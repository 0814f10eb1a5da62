import { z } from "zod";
import { histogramSchema } from "./histogram";

const count = z.number().int().min(0);

/**
 * Counter increments over one interval (deltas, so points from many agents and
 * intervals add up), plus a few gauges sampled at its end.
 */
export const trafficDeltaSchema = z.object({
  requests: count.default(0),
  /** Responses by status class, local answers included. */
  s1xx: count.default(0),
  s2xx: count.default(0),
  s3xx: count.default(0),
  s4xx: count.default(0),
  s5xx: count.default(0),
  bytesIn: count.default(0),
  bytesOut: count.default(0),
  connectionsOpened: count.default(0),
  retries: count.default(0),
  /** Gauges at the end of the interval. */
  activeConnections: count.default(0),
  queueLength: count.default(0),
  /** Latency to the response head, for the requests of this interval; mergeable. */
  latency: histogramSchema.optional(),
});
export type TrafficDelta = z.infer<typeof trafficDeltaSchema>;

export const backendStatusSchema = z.enum(["up", "down", "ejected", "draining", "disabled", "unknown"]);
export type BackendStatus = z.infer<typeof backendStatusSchema>;

/** One second of an agent's traffic. */
export const statsPointSchema = z.object({
  /** End of the interval (ISO time, agent clock). */
  at: z.string(),
  intervalMs: z.number().int().positive().max(3_600_000),
  /** Increases by one per point within an agent run; lets the console drop duplicates. */
  seq: z.number().int().min(0),
  listeners: z.record(z.string(), trafficDeltaSchema).default({}),
  routes: z.record(z.string(), trafficDeltaSchema).default({}),
  pools: z.record(z.string(), trafficDeltaSchema).default({}),
  /**
   * Keyed by snapshot backend id. A backend address listed in two pools
   * reports the same counters under both ids.
   */
  backends: z
    .record(
      z.string(),
      trafficDeltaSchema.extend({
        poolId: z.string(),
        status: backendStatusSchema,
        /**
         * Gauge: sticky sessions (source-IP entries, or client IPs holding a
         * sticky cookie within the persistence TTL) pinned to this backend in
         * this pool. Optional: agents before it send none, read as 0.
         */
        stickySessions: count.optional(),
      }),
    )
    .default({}),
});
export type StatsPoint = z.infer<typeof statsPointSchema>;

/** Points buffered while the console was unreachable are sent in batches of at most this many. */
export const MAX_STATS_POINTS_PER_MESSAGE = 60;
export const statsPayload = z.object({
  points: z.array(statsPointSchema).min(1).max(MAX_STATS_POINTS_PER_MESSAGE),
});
