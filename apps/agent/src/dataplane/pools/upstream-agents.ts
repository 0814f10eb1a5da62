import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { DataPlaneTimeouts } from "../timeouts";
import type { TlsOrigin } from "./backend-tls";

/**
 * One keep-alive pool per backend address, shared across snapshots so a
 * reconfiguration does not throw away warm upstream connections.
 */
export class UpstreamAgents {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly timeouts: DataPlaneTimeouts) {}

  /** `key`: the backend's connKey (its TLS settings included); `tls`: an https.Agent with the pool's TLS, which resumes sessions. */
  get(key: string, tls?: { origin: TlsOrigin; backendKey: string; address: string }): Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      const opts = {
        keepAlive: true,
        // Pooled sockets idle longer than this are closed before the backend closes them under us.
        timeout: this.timeouts.upstreamKeepAliveMs,
        maxFreeSockets: 256,
        scheduling: "lifo" as const,
      };
      agent = tls
        ? new HttpsAgent({ ...opts, ...tls.origin.connectOptions(tls.backendKey, tls.address) })
        : new Agent(opts);
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
