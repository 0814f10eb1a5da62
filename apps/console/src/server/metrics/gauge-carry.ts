/**
 * Agents send an entry when it has traffic, when its gauges change, and in
 * every keyframe (each 60 s); a long idle connection is therefore reported
 * only around the moments it opens or closes. Its gauges (active connections,
 * queue length) hold until the agent says otherwise, so they are carried into
 * the agent's later points that leave the entry out. A carried gauge lapses
 * after CARRY_MS without a report (an entity gone from the snapshot is not
 * listed any more, not even in keyframes); an agent that stops sending points
 * (disconnected) contributes nothing, carried or not.
 */
export const CARRY_MS = 90_000;

export type GaugeScope = "listener" | "pool" | "backend";

export interface CarriedGauge {
  scope: GaugeScope;
  id: string;
  /** The backend's pool (backend scope only). */
  poolId: string;
  activeConnections: number;
  queueLength: number;
  /** End of the point that reported it (agent clock). */
  at: number;
  /** When this console received it. */
  seen: number;
}

const keyOf = (scope: GaugeScope, id: string) => `${scope}\u0000${id}`;

export class GaugeCarry {
  private readonly byAgent = new Map<string, Map<string, CarriedGauge>>();

  /** Records an entry's gauges as of `at`; zero gauges end the carry. */
  report(
    agentId: string,
    g: { scope: GaugeScope; id: string; poolId?: string; activeConnections: number; queueLength: number },
    at: number,
    seen: number,
  ): void {
    let gauges = this.byAgent.get(agentId);
    const key = keyOf(g.scope, g.id);
    const prev = gauges?.get(key);
    if (prev && prev.at > at) return; // a late point from before the newest report
    if (g.activeConnections === 0 && g.queueLength === 0) {
      gauges?.delete(key);
      return;
    }
    if (!gauges) {
      gauges = new Map();
      this.byAgent.set(agentId, gauges);
    }
    gauges.set(key, {
      scope: g.scope,
      id: g.id,
      poolId: g.poolId ?? "",
      activeConnections: g.activeConnections,
      queueLength: g.queueLength,
      at,
      seen,
    });
  }

  /** The agent's carried gauges for a point ending at `end` that leaves out the entries `present` says it has. */
  carried(agentId: string, end: number, present: (scope: GaugeScope, id: string) => boolean): CarriedGauge[] {
    const gauges = this.byAgent.get(agentId);
    if (!gauges) return [];
    const out: CarriedGauge[] = [];
    for (const [key, g] of gauges) {
      if (end - g.at > CARRY_MS) {
        gauges.delete(key);
        continue;
      }
      if (end > g.at && !present(g.scope, g.id)) out.push(g);
    }
    return out;
  }

  /** Forgets agents that reported nothing for CARRY_MS (their carries could not apply any more). */
  sweep(now: number): void {
    for (const [agentId, gauges] of this.byAgent) {
      for (const [key, g] of gauges) if (now - g.seen > CARRY_MS) gauges.delete(key);
      if (gauges.size === 0) this.byAgent.delete(agentId);
    }
  }
}
