import { Agent } from "node:http";
import type { DataPlaneTimeouts } from "../timeouts";

/**
 * One keep-alive pool per backend address, shared across snapshots so a
 * reconfiguration does not throw away warm upstream connections.
 */
export class UpstreamAgents {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly timeouts: DataPlaneTimeouts) {}

  get(key: string): Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({
        keepAlive: true,
        // Pooled sockets idle longer than this are closed before the backend closes them under us.
        timeout: this.timeouts.upstreamKeepAliveMs,
        maxFreeSockets: 256,
        scheduling: "lifo",
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Drops pools no longer referenced, after in-flight requests had their grace period. */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, agent] of this.agents) {
      if (keys.has(key)) continue;
      this.agents.delete(key);
      setTimeout(() => agent.destroy(), this.timeouts.drainGraceMs).unref();
    }
  }

  /** Closes pooled idle connections to one backend (it finished draining); busy ones are left alone. */
  closeIdle(key: string): void {
    const agent = this.agents.get(key);
    if (!agent) return;
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  destroyAll(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
