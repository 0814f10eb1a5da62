import {
  createHistogram,
  type Histogram,
  recordValue,
  type StatsPoint,
  type TrafficDelta,
} from "@fulcrum/protocol";

/** Building blocks of the `stats` messages a fake agent sends. */
export function latency(...ms: number[]): Histogram {
  const h = createHistogram();
  for (const v of ms) recordValue(h, v);
  return h;
}

export function delta(d: Partial<TrafficDelta>): TrafficDelta {
  return {
    requests: 0,
    s1xx: 0,
    s2xx: 0,
    s3xx: 0,
    s4xx: 0,
    s5xx: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectionsOpened: 0,
    retries: 0,
    activeConnections: 0,
    queueLength: 0,
    ...d,
  };
}

/** A 1-second point ending at `endMs`. */
export function point(
  endMs: number,
  seq: number,
  parts: Partial<Pick<StatsPoint, "listeners" | "routes" | "pools" | "backends">>,
): StatsPoint {
  return {
    at: new Date(endMs).toISOString(),
    intervalMs: 1000,
    seq,
    listeners: {},
    routes: {},
    pools: {},
    backends: {},
    ...parts,
  };
}
