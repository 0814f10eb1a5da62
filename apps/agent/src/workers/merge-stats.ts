import { type EngineStats, emptyEngineStats } from "../engines/engine-stats";

/**
 * Per-node statistics from the workers' own: counters and histogram buckets
 * add up, names and addresses are the same everywhere. The exceptions are
 * gauges that do not add: a backend's latency EWMA is the workers' highest
 * (the one a dashboard should notice), and sticky-session counts are the
 * workers' highest: source-IP pins are node-wide (every worker holds the
 * node's table, workers/node-sticky-tables.ts), and cookie sessions are
 * counted by the worker that saw them, so the highest is a lower bound there.
 */
type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

/** Values a worker that has exited no longer holds: dropped from its last stats before they join the departed sum. */
const GAUGES = new Set(["activeConnections", "inFlight", "queueLength", "ewmaMs", "stickySessions"]);

/** Fields merged by taking the highest (numbers inside them included). */
const HIGHEST = new Set(["ewmaMs", "stickySessions"]);

function mergeValue(key: string, a: Json | undefined, b: Json, highest = HIGHEST.has(key)): Json {
  if (a === undefined || a === null) return b;
  if (b === null) return a;
  if (typeof a === "number" && typeof b === "number") return highest ? Math.max(a, b) : a + b;
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => mergeValue(key, x, b[i] ?? 0, highest));
  if (typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const out: { [k: string]: Json } = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergeValue(k, out[k], v, highest || HIGHEST.has(k));
    return out;
  }
  return a;
}

const SECTIONS = ["listeners", "routes", "pools", "backends"] as const;

/**
 * Sums `live` (each worker's latest stats) and `departed` (what workers that
 * have since exited had counted, so node totals never go backwards). Entries of
 * `departed` that no live worker has any more (a pool the config removed) are
 * left out, as one engine would leave them out.
 */
export function mergeStats(live: readonly EngineStats[], departed: EngineStats | undefined): EngineStats {
  const out = emptyEngineStats();
  for (const section of SECTIONS) {
    const target = out[section] as unknown as Record<string, Json>;
    for (const s of live) {
      for (const [id, v] of Object.entries(s[section])) target[id] = mergeValue(id, target[id], v as Json);
    }
    for (const [id, v] of Object.entries(departed?.[section] ?? {})) {
      if (id in target) target[id] = mergeValue(id, target[id], v as Json);
    }
  }
  return out;
}

/** A worker's last stats without its gauges: what stays counted after it exits. */
export function withoutGauges(stats: EngineStats): EngineStats {
  const strip = (v: Json): Json => {
    if (Array.isArray(v) || v === null || typeof v !== "object") return v;
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      if (GAUGES.has(k)) continue;
      out[k] = strip(x);
    }
    return out;
  };
  return strip(stats as unknown as Json) as unknown as EngineStats;
}
