import { HANDSHAKE_COUNTERS, type HandshakeDelta } from "@fulcrum/protocol";
import { getOrCreate } from "./get-or-create";

/**
 * TLS handshakes per listener and per agent since this console started, for
 * Prometheus (/metrics). Kept apart from the series for the same reason as
 * the pool totals: Prometheus wants ever-growing counters, and per node,
 * while the series merge the agents of a cluster.
 */

/** Cluster → listener id → agent id → handshake counters since console start. */
export type HandshakeTotals = ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, HandshakeDelta>>>;

export class HandshakeTotalsBook {
  private readonly byCluster = new Map<string, Map<string, Map<string, HandshakeDelta>>>();

  add(clusterId: string, listenerId: string, agentId: string, d: HandshakeDelta): void {
    const listeners = getOrCreate(this.byCluster, clusterId, () => new Map());
    const agents = getOrCreate(listeners, listenerId, () => new Map<string, HandshakeDelta>());
    const t = getOrCreate(agents, agentId, () => zeroHandshakes());
    for (const f of HANDSHAKE_COUNTERS) t[f] += d[f];
  }

  all(): HandshakeTotals {
    return this.byCluster;
  }
}

function zeroHandshakes(): HandshakeDelta {
  return Object.fromEntries(HANDSHAKE_COUNTERS.map((f) => [f, 0])) as HandshakeDelta;
}
