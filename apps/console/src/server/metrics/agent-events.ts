import type { PrismaClient } from "@fulcrum/db";
import type { HealthEvent } from "@fulcrum/protocol";
import type { Logger } from "../logger";
import type { AgentRef, ConfigEvent } from "./sink";

/**
 * Recording what agents report besides traffic: their acks and nacks (graph
 * markers) and backend health events (the pool page's health timeline), one
 * database write each, not awaited by the gateway. The writes in flight are
 * kept so closing the store waits for them rather than cutting them off.
 */
export class AgentEventLog {
  private readonly writes = new Set<Promise<unknown>>();

  constructor(private readonly deps: { prisma: PrismaClient; log: Logger }) {}

  config(agent: AgentRef, event: ConfigEvent): void {
    const write = this.deps.prisma.agentConfigEvent
      .create({
        data: {
          agentId: agent.id,
          agentName: agent.name,
          clusterId: agent.clusterId,
          kind: event.kind,
          version: event.version,
          reason: event.reason ?? null,
          at: event.at,
        },
      })
      .catch((err: unknown) => this.deps.log.error("could not record agent config event", { err }))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  health(agent: AgentRef, events: readonly HealthEvent[]): void {
    const rows = events.map((e) => ({
      clusterId: agent.clusterId,
      agentId: agent.id,
      agentName: agent.name,
      poolId: e.poolId,
      backendId: e.backendId,
      address: e.address,
      port: e.port,
      state: e.state,
      reason: e.reason ?? null,
      at: new Date(e.at),
    }));
    const write = this.deps.prisma.healthEvent
      .createMany({ data: rows })
      .catch((err: unknown) => this.deps.log.error("could not record health events", { err }))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** Resolves once the writes started so far have finished (or failed, which is logged). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }
}
