import { z } from "zod";
import { isId, MAX_ID_LENGTH } from "./grammar";
import { histogramSchema } from "./histogram";

const count = z.number().int().min(0);

/**
 * Counter increments over one interval (deltas, so points from many agents and
 * intervals add up). The agent's sampler and the console's aggregates use
 * exactly these names (TRAFFIC_COUNTERS).
 */
export const trafficCountersSchema = z.object({
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
});
export type TrafficCounter = keyof typeof trafficCountersSchema.shape;
export type TrafficCounters = Record<TrafficCounter, number>;
/** The counter names, in the schema's order. */
export const TRAFFIC_COUNTERS = Object.keys(trafficCountersSchema.shape) as readonly TrafficCounter[];

/** The counters of one interval plus a few gauges sampled at its end. */
export const trafficDeltaSchema = trafficCountersSchema.extend({
  /** Gauges at the end of the interval. */
  activeConnections: count.default(0),
  queueLength: count.default(0),
  /** Latency to the response head, for the requests of this interval; mergeable. */
  latency: histogramSchema.optional(),
});
export type TrafficDelta = z.infer<typeof trafficDeltaSchema>;

/** TLS handshakes of a listener over one interval (deltas), by outcome (issue 16). */
export const handshakeDeltaSchema = z.object({
  /** Completed, full and resumed. */
  handshakes: count.default(0),
  /** Completed by resuming a session (a ticket). */
  resumed: count.default(0),
  failedNoSharedCipher: count.default(0),
  failedProtocolVersion: count.default(0),
  /** SNI named nothing the listener serves and it rejects unknown names. */
  failedUnknownName: count.default(0),
  /** Resets, timeouts, bytes that are not TLS. */
  failedOther: count.default(0),
});
export type HandshakeDelta = z.infer<typeof handshakeDeltaSchema>;
export const HANDSHAKE_COUNTERS = Object.keys(handshakeDeltaSchema.shape) as (keyof HandshakeDelta)[];

export const backendStatusSchema = z.enum(["up", "down", "ejected", "draining", "disabled", "unknown"]);
export type BackendStatus = z.infer<typeof backendStatusSchema>;

/**
 * Most entries one point may list per record. An agent lists only what its
 * snapshot holds (every entry once a minute, in keyframes), so these are far
 * above real clusters (200 pools and 10,000 backends fit many times over) and
 * only stop a point from naming unbounded numbers of invented ids.
 */
export const MAX_STATS_LISTENERS = 2_000;
export const MAX_STATS_ROUTES = 20_000;
export const MAX_STATS_POOLS = 5_000;
export const MAX_STATS_BACKENDS = 50_000;

/** Entries are keyed by snapshot ids: the snapshot's grammar, so a key is safe in a log line or a query. */
const statsIdSchema = z
  .string()
  .refine(isId, `Use a snapshot id (1-${MAX_ID_LENGTH} letters, digits and . _ ~ -).`);

/** At most `max` keys, counted before any entry is parsed (a pipe stops at the first failing stage). */
function hasAtMostKeys(v: unknown, max: number): boolean {
  if (typeof v !== "object" || v === null) return true; // the record schema refuses it with its own message
  let n = 0;
  for (const k in v) if (Object.hasOwn(v, k) && ++n > max) return false;
  return true;
}

function boundedRecord<V extends z.ZodType>(value: V, max: number, what: string) {
  const record = z.record(statsIdSchema, value);
  return z
    .custom<z.input<typeof record>>((v) => hasAtMostKeys(v, max), `At most ${max} ${what} per point.`)
    .pipe(record);
}

/** One second of an agent's traffic. */
export const statsPointSchema = z.object({
  /** End of the interval (ISO time, agent clock). */
  at: z.string().max(64),
  intervalMs: z.number().int().positive().max(3_600_000),
  /** Increases by one per point within an agent run; lets the console drop duplicates. */
  seq: z.number().int().min(0),
  listeners: boundedRecord(
    /** `tls`: TLS listeners only; optional, agents before issue 16 send none. */
    trafficDeltaSchema.extend({ tls: handshakeDeltaSchema.optional() }),
    MAX_STATS_LISTENERS,
    "listeners",
  ).default({}),
  routes: boundedRecord(trafficDeltaSchema, MAX_STATS_ROUTES, "routes").default({}),
  pools: boundedRecord(trafficDeltaSchema, MAX_STATS_POOLS, "pools").default({}),
  /**
   * Keyed by snapshot backend id. A backend address listed in two pools
   * reports the same counters under both ids.
   */
  backends: boundedRecord(
    trafficDeltaSchema.extend({
      poolId: statsIdSchema,
      status: backendStatusSchema,
      /**
       * Gauge: sticky sessions (source-IP entries, or client IPs holding a
       * sticky cookie within the persistence TTL) pinned to this backend in
       * this pool. Optional: agents before it send none, read as 0.
       */
      stickySessions: count.optional(),
    }),
    MAX_STATS_BACKENDS,
    "backends",
  ).default({}),
});
export type StatsPoint = z.infer<typeof statsPointSchema>;

/** Points buffered while the console was unreachable are sent in batches of at most this many. */
export const MAX_STATS_POINTS_PER_MESSAGE = 60;
/**
 * An agent adds points to a stats message only while the encoded message stays
 * within this many bytes (well under MAX_AGENT_FRAME_BYTES and the gateway's
 * byte rate). A single point above it is sent alone if its message fits in a
 * frame; one that does not is dropped by the agent, never sent.
 */
export const STATS_MESSAGE_BYTE_BUDGET = 1024 * 1024;
export const statsPayload = z.object({
  points: z.array(statsPointSchema).min(1).max(MAX_STATS_POINTS_PER_MESSAGE),
});
