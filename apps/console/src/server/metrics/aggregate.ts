import {
  type BackendStatus,
  HANDSHAKE_COUNTERS,
  type HandshakeDelta,
  HISTOGRAM_BUCKET_COUNT,
  type Histogram,
  quantile,
  TRAFFIC_COUNTERS,
  type TrafficDelta,
} from "@fulcrum/protocol";

export const SCOPES = ["cluster", "listener", "route", "pool", "backend", "pool_backend", "agent"] as const;
export type Scope = (typeof SCOPES)[number];
export const RANGES = ["5m", "15m", "1h", "24h", "7d"] as const;
export type Range = (typeof RANGES)[number];
export type { BackendStatus };

/**
 * The series id of a backend's traffic in one pool ("pool_backend" scope). A
 * backend moved to another pool keeps its id, so its rate in each pool is kept
 * apart from the "backend" scope, which follows the backend wherever it is.
 */
export const poolBackendKey = (poolId: string, backendId: string) => `${poolId}/${backendId}`;

/** One step of a graph. Rates are per second over the step; gauges are averaged over it. */
export interface SeriesPoint {
  /** Epoch ms, start of the step. */
  t: number;
  rps: number;
  /** 4xx / 5xx responses per second. */
  errorRate4xx: number;
  errorRate5xx: number;
  /** Responses per second by status class. */
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
  activeConnections: number;
  /** Latency to the response head, ms; null without samples. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** TLS handshakes completed per second (full and resumed); 0 on plain listeners. */
  tlsHandshakes: number;
  /** Share of those handshakes that resumed a session, 0-100; null without handshakes. */
  tlsResumedPercent: number | null;
  /** Failed TLS handshakes per second, by reason. */
  tlsFailedNoSharedCipher: number;
  tlsFailedProtocolVersion: number;
  tlsFailedUnknownName: number;
  tlsFailedOther: number;
}

/**
 * Field order of an aggregate's counter vector. Counters (the protocol's
 * TRAFFIC_COUNTERS, then its HANDSHAKE_COUNTERS of TLS listeners) are sums; the two
 * gauges are stored as value × seconds (so they add up across agents and time
 * and divide back into an average); latency sum/count belong to the histogram.
 */
export const FIELDS = [
  ...TRAFFIC_COUNTERS,
  ...HANDSHAKE_COUNTERS,
  "activeConnectionsSec",
  "queueLengthSec",
  "latencySum",
  "latencyCount",
] as const;
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<(typeof FIELDS)[number], number>;
export const FIELD = F;
const N = FIELDS.length;

/** Counters (and gauge-seconds) plus a latency histogram, all additive. */
export interface Agg {
  c: Float64Array;
  /** HISTOGRAM_BUCKET_COUNT counts, or null when no latency was recorded. */
  hist: Float64Array | null;
}

export function newAgg(): Agg {
  return { c: new Float64Array(N), hist: null };
}

/** A point's delta as a vector (gauges as values, not yet × seconds). */
export interface DeltaVec {
  c: Float64Array;
  hist: Float64Array | null;
}

/** A listener's entry may carry its TLS handshakes; other entries have none. */
export function deltaVec(d: TrafficDelta & { tls?: HandshakeDelta | undefined }): DeltaVec {
  const c = new Float64Array(N);
  for (const f of TRAFFIC_COUNTERS) c[F[f]] = d[f];
  if (d.tls) for (const f of HANDSHAKE_COUNTERS) c[F[f]] = d.tls[f];
  c[F.activeConnectionsSec] = d.activeConnections;
  c[F.queueLengthSec] = d.queueLength;
  let hist: Float64Array | null = null;
  if (d.latency && d.latency.count > 0) {
    hist = Float64Array.from(d.latency.counts);
    c[F.latencySum] = d.latency.sum;
    c[F.latencyCount] = d.latency.count;
  }
  return { c, hist };
}

export function sumVecs(vs: readonly DeltaVec[]): DeltaVec {
  const c = new Float64Array(N);
  let hist: Float64Array | null = null;
  for (const v of vs) {
    for (let i = 0; i < N; i++) c[i]! += v.c[i]!;
    if (v.hist) {
      hist ??= new Float64Array(HISTOGRAM_BUCKET_COUNT);
      for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) hist[i]! += v.hist[i]!;
    }
  }
  return { c, hist };
}

/**
 * Adds a share of a point: counters × `share` (the fraction of the point's
 * interval that falls into this bucket), gauges × `gaugeSec` (seconds of
 * overlap), and the latency histogram only when `withLatency`.
 */
export function addShare(
  into: Agg,
  v: DeltaVec,
  share: number,
  gaugeSec: number,
  withLatency: boolean,
): void {
  for (let i = 0; i < F.activeConnectionsSec; i++) into.c[i]! += v.c[i]! * share;
  into.c[F.activeConnectionsSec]! += v.c[F.activeConnectionsSec]! * gaugeSec;
  into.c[F.queueLengthSec]! += v.c[F.queueLengthSec]! * gaugeSec;
  if (withLatency && v.hist) {
    into.c[F.latencySum]! += v.c[F.latencySum]!;
    into.c[F.latencyCount]! += v.c[F.latencyCount]!;
    into.hist ??= new Float64Array(HISTOGRAM_BUCKET_COUNT);
    for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) into.hist[i]! += v.hist[i]!;
  }
}

export function mergeAgg(into: Agg, from: Agg): void {
  for (let i = 0; i < N; i++) into.c[i]! += from.c[i]!;
  if (from.hist) {
    into.hist ??= new Float64Array(HISTOGRAM_BUCKET_COUNT);
    for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) into.hist[i]! += from.hist[i]!;
  }
}

export type Quantiles = readonly [number | null, number | null, number | null];

export function quantilesOf(agg: Agg): Quantiles {
  const count = agg.c[F.latencyCount]!;
  if (!agg.hist || count <= 0) return [null, null, null];
  const h: Histogram = { counts: Array.from(agg.hist), sum: agg.c[F.latencySum]!, count };
  const q = (p: number) => {
    const v = quantile(h, p);
    return Number.isFinite(v) ? round3(v) : null;
  };
  return [q(0.5), q(0.95), q(0.99)];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** An aggregate over `seconds` as a graph point; `q` overrides the quantiles (sealed seconds). */
export function toPoint(t: number, agg: Agg | undefined, seconds: number, q?: Quantiles): SeriesPoint {
  const c = agg?.c;
  const rate = (i: number) => (c ? round3(c[i]! / seconds) : 0);
  const [p50, p95, p99] = q ?? (agg ? quantilesOf(agg) : [null, null, null]);
  const handshakes = c?.[F.handshakes] ?? 0;
  return {
    t,
    rps: rate(F.requests),
    errorRate4xx: rate(F.s4xx),
    errorRate5xx: rate(F.s5xx),
    s2xx: rate(F.s2xx),
    s3xx: rate(F.s3xx),
    s4xx: rate(F.s4xx),
    s5xx: rate(F.s5xx),
    bytesInPerSec: rate(F.bytesIn),
    bytesOutPerSec: rate(F.bytesOut),
    activeConnections: rate(F.activeConnectionsSec),
    p50,
    p95,
    p99,
    tlsHandshakes: rate(F.handshakes),
    tlsResumedPercent: handshakes > 0 ? round3((100 * c![F.resumed]!) / handshakes) : null,
    tlsFailedNoSharedCipher: rate(F.failedNoSharedCipher),
    tlsFailedProtocolVersion: rate(F.failedProtocolVersion),
    tlsFailedUnknownName: rate(F.failedUnknownName),
    tlsFailedOther: rate(F.failedOther),
  };
}

/** Rollup row JSON ↔ aggregate. Counters by field name; latency sparse by bucket index. */
export function aggToJson(agg: Agg): { counters: Record<string, number>; latency: Record<string, number> } {
  const counters: Record<string, number> = {};
  FIELDS.forEach((f, i) => {
    if (agg.c[i] !== 0) counters[f] = agg.c[i]!;
  });
  const latency: Record<string, number> = {};
  if (agg.hist) {
    for (let i = 0; i < agg.hist.length; i++) if (agg.hist[i] !== 0) latency[String(i)] = agg.hist[i]!;
  }
  return { counters, latency };
}

export function aggFromJson(counters: unknown, latency: unknown): Agg {
  const agg = newAgg();
  if (counters && typeof counters === "object") {
    for (const [k, v] of Object.entries(counters as Record<string, unknown>)) {
      const i = (F as Record<string, number>)[k];
      if (i !== undefined && typeof v === "number") agg.c[i] = v;
    }
  }
  if (latency && typeof latency === "object") {
    for (const [k, v] of Object.entries(latency as Record<string, unknown>)) {
      const i = Number(k);
      if (Number.isInteger(i) && i >= 0 && i < HISTOGRAM_BUCKET_COUNT && typeof v === "number") {
        agg.hist ??= new Float64Array(HISTOGRAM_BUCKET_COUNT);
        agg.hist[i] = v;
      }
    }
  }
  return agg;
}
