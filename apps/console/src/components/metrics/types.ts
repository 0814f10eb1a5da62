/** Shapes of the metrics API (src/server/trpc/routers/metrics.ts), plus the ranges the pickers offer. */

import type { RouterInputs, RouterOutputs } from "../../lib/api-types";

type Metrics = RouterOutputs["metrics"];

export type Scope = RouterInputs["metrics"]["series"]["scope"];
export type Range = RouterInputs["metrics"]["series"]["range"];
export type BackendHealth = Metrics["poolBackends"]["status"][string];
/** One step of a graph: rates per second, gauges averaged, latency in ms (null without samples). */
export type SeriesPoint = Metrics["series"]["points"][number];
/** A config version, or an agent's ACK/NACK of one. */
export type Marker = Metrics["markers"][number];

/** One second of a pool's backends, as the liveBackends stream sends it. */
export interface BackendsRow {
  t: number;
  points: Record<string, SeriesPoint>;
}

export interface RangeInfo {
  value: Range;
  label: string;
  /** Streams new points every second. */
  live: boolean;
  windowMs: number;
  /** How often a historical range is refetched. */
  refetchMs: number;
}

const MIN = 60_000;
export const RANGES: readonly RangeInfo[] = [
  { value: "5m", label: "Live 5 min", live: true, windowMs: 5 * MIN, refetchMs: 0 },
  { value: "15m", label: "Live 15 min", live: true, windowMs: 15 * MIN, refetchMs: 0 },
  { value: "1h", label: "1 h", live: false, windowMs: 60 * MIN, refetchMs: 15_000 },
  { value: "24h", label: "24 h", live: false, windowMs: 24 * 60 * MIN, refetchMs: 60_000 },
  { value: "7d", label: "7 d", live: false, windowMs: 7 * 24 * 60 * MIN, refetchMs: 5 * MIN },
];

export function rangeInfo(range: Range): RangeInfo {
  return RANGES.find((r) => r.value === range) ?? RANGES[0]!;
}
