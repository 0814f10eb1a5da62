import {
  MAX_AGENT_FRAME_BYTES,
  MAX_STATS_POINTS_PER_MESSAGE,
  STATS_MESSAGE_BYTE_BUDGET,
  type StatsPoint,
} from "@fulcrum/protocol";

/**
 * Room for the message around its points: {"v":1,"type":"stats","id":"…","payload":{"points":[…]}}.
 * Generous, so a message measured from its points never exceeds what was planned.
 */
export const STATS_ENVELOPE_BYTES = 256;

export interface StatsPackLimits {
  /** Points are added while the message stays within this (a first point above it goes alone). */
  budgetBytes: number;
  /** A point whose message would exceed this can never be sent. */
  frameBytes: number;
  maxPoints: number;
}

export const DEFAULT_STATS_PACK_LIMITS: Readonly<StatsPackLimits> = {
  budgetBytes: STATS_MESSAGE_BYTE_BUDGET,
  frameBytes: MAX_AGENT_FRAME_BYTES,
  maxPoints: MAX_STATS_POINTS_PER_MESSAGE,
};

export interface StatsPack {
  /** The next message's points, oldest first; empty when every point looked at was oversize. */
  batch: StatsPoint[];
  /** Points not looked at or not fitting: they stay pending, in order. */
  rest: StatsPoint[];
  /** Points too large for any frame: dropped, never sent. */
  oversize: number;
  /** Encoded size of the largest oversize point (for the log line). */
  largestOversizeBytes: number;
}

/** Encoded size of each point; a point put back after a failed send is not measured again. */
const measured = new WeakMap<StatsPoint, number>();

export function encodedPointBytes(p: StatsPoint): number {
  let n = measured.get(p);
  if (n === undefined) {
    n = Buffer.byteLength(JSON.stringify(p));
    measured.set(p, n);
  }
  return n;
}

/**
 * Splits pending points (oldest first) into the next message and the rest, so
 * the message's encoded size stays within the budget, and a point no frame can
 * carry is dropped here instead of closing the connection (1009) again and again.
 */
export function packStats(
  pending: readonly StatsPoint[],
  limits: StatsPackLimits = DEFAULT_STATS_PACK_LIMITS,
): StatsPack {
  const batch: StatsPoint[] = [];
  let bytes = STATS_ENVELOPE_BYTES;
  let oversize = 0;
  let largestOversizeBytes = 0;
  let i = 0;
  for (; i < pending.length && batch.length < limits.maxPoints; i++) {
    const p = pending[i] as StatsPoint;
    const size = encodedPointBytes(p);
    if (STATS_ENVELOPE_BYTES + size > limits.frameBytes) {
      oversize++;
      largestOversizeBytes = Math.max(largestOversizeBytes, size);
      continue;
    }
    // +1 for the comma between points.
    if (batch.length > 0 && bytes + 1 + size > limits.budgetBytes) break;
    batch.push(p);
    bytes += size + (batch.length > 1 ? 1 : 0);
  }
  return { batch, rest: pending.slice(i), oversize, largestOversizeBytes };
}
