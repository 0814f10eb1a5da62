import { AGENT_ENROLL_PATH, enrollResponseSchema } from "@fulcrum/protocol";
import { waitUntil } from "./clock.ts";
import { type AgentObserver, type Credential, type RetryPolicy, SimAgent } from "./sim-agent.ts";

/** Enrolls `count` agents through the real HTTP endpoint, `concurrency` at a time. */
export async function enrollAgents(
  consoleUrl: string,
  token: string,
  count: number,
  concurrency = 16,
): Promise<Credential[]> {
  const out: Credential[] = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const name = `sim-${String(i).padStart(4, "0")}`;
      const res = await fetch(new URL(AGENT_ENROLL_PATH, consoleUrl), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name }),
      });
      if (!res.ok) throw new Error(`enrolling ${name}: HTTP ${res.status} ${await res.text()}`);
      const body = enrollResponseSchema.parse(await res.json());
      out[i] = { name, agentId: body.agentId, credential: body.credential };
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** A set of simulated agents sharing one observer; each keeps its own socket and timers. */
export class Fleet {
  readonly agents: SimAgent[];
  private readonly observers = new Set<AgentObserver>();

  constructor(creds: readonly Credential[], consoleUrl: string, policy: RetryPolicy) {
    const fanout: AgentObserver = {
      attempt: (a, t) => this.each((o) => o.attempt?.(a, t)),
      open: (a, t) => this.each((o) => o.open?.(a, t)),
      welcome: (a, t) => this.each((o) => o.welcome?.(a, t)),
      snapshot: (a, v, t) => this.each((o) => o.snapshot?.(a, v, t)),
      closed: (a, c, t) => this.each((o) => o.closed?.(a, c, t)),
    };
    this.agents = creds.map((c) => new SimAgent(c, consoleUrl, policy, fanout));
  }

  private each(fn: (o: AgentObserver) => void) {
    for (const o of this.observers) fn(o);
  }

  observe(o: AgentObserver): () => void {
    this.observers.add(o);
    return () => this.observers.delete(o);
  }

  setPolicy(policy: RetryPolicy): void {
    for (const a of this.agents) a.policy = policy;
  }

  /** Connects every agent, `batch` at a time, and waits until all are welcomed and hold `version`. */
  async connectAll(version: number, timeoutMs = 60_000, batch = 100): Promise<void> {
    for (let i = 0; i < this.agents.length; i += batch) {
      const slice = this.agents.slice(i, i + batch);
      for (const a of slice) a.connect();
      await waitUntil("a batch of agents to connect", () => slice.every((a) => a.connected), timeoutMs);
    }
    await this.waitSettled(version, timeoutMs);
  }

  async waitSettled(version: number, timeoutMs: number): Promise<void> {
    await waitUntil(
      `${this.agents.length} agents connected at version ${version}`,
      () => {
        for (const a of this.agents) {
          if (a.fatal) throw new Error(`${a.cred.name} was refused with close ${a.fatal}`);
          if (!a.connected || (a.applied?.version ?? 0) < version) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  stop(): void {
    for (const a of this.agents) a.stop();
  }
}
