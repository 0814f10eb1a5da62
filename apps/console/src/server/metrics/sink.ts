import type { HealthEvent, StatsPoint } from "@fulcrum/protocol";

/**
 * What the agent gateway needs from the metrics store, as an interface: the
 * gateway depends on this, not on the store, and without a store given it
 * discards stats (discardStats).
 */

export interface AgentRef {
  id: string;
  name: string;
  clusterId: string;
}

/** An agent's answer to a snapshot: applied (ack) or refused (nack). */
export interface ConfigEvent {
  kind: "ack" | "nack";
  version: number;
  reason?: string;
  at: Date;
}

/** Where the gateway hands each agent's traffic points; the metrics store implements it. */
export interface StatsSink {
  ingest(agent: AgentRef, points: readonly StatsPoint[]): void;
  /** Called when an agent acks or nacks a snapshot (graph markers). */
  configEvent?(agent: AgentRef, event: ConfigEvent): void;
  /** Backend health changes an agent reported (the pool page's health timeline). */
  healthEvents?(agent: AgentRef, events: readonly HealthEvent[]): void;
}

export const discardStats: StatsSink = { ingest: () => {} };
