import { HISTOGRAM_BUCKET_COUNT, type StatsPoint } from "@fulcrum/protocol";
import { getOrCreate } from "./get-or-create";

/**
 * Per-pool counters since this console started, for Prometheus (/metrics):
 * responses by status class and the latency histogram. Separate from the
 * series because Prometheus wants ever-growing totals, never windows, and
 * they are never forgotten or written to the database.
 */

/** Cumulative per-pool totals since console start, for /metrics. */
export interface PoolTotals {
  byClass: Float64Array;
  hist: Float64Array;
  latencySum: number;
  latencyCount: number;
}

export class PoolTotalsBook {
  /** Cluster → pool → totals. */
  private readonly byCluster = new Map<string, Map<string, PoolTotals>>();

  add(clusterId: string, poolId: string, d: StatsPoint["pools"][string]): void {
    const pools = getOrCreate(this.byCluster, clusterId, () => new Map());
    let t = pools.get(poolId);
    if (!t) {
      t = {
        byClass: new Float64Array(5),
        hist: new Float64Array(HISTOGRAM_BUCKET_COUNT),
        latencySum: 0,
        latencyCount: 0,
      };
      pools.set(poolId, t);
    }
    t.byClass[0]! += d.s1xx;
    t.byClass[1]! += d.s2xx;
    t.byClass[2]! += d.s3xx;
    t.byClass[3]! += d.s4xx;
    t.byClass[4]! += d.s5xx;
    if (d.latency) {
      for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) t.hist[i]! += d.latency.counts[i] ?? 0;
      t.latencySum += d.latency.sum;
      t.latencyCount += d.latency.count;
    }
  }

  /** Totals by cluster, then pool. */
  all(): ReadonlyMap<string, ReadonlyMap<string, PoolTotals>> {
    return this.byCluster;
  }
}
