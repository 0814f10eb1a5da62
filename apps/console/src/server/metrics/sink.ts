import type { StatsPoint } from "@fulcrum/protocol";

/** Where the gateway hands each agent's traffic points; the metrics store implements it. */
export interface StatsSink {
  ingest(agent: { id: string; name: string; clusterId: string }, points: readonly StatsPoint[]): void;
}

export const discardStats: StatsSink = { ingest: () => {} };
