import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_SILENCE_LIMIT_MS } from "../src/server/domain/agent-liveness";
import { actors, callerAs, startTestConsole, type TestConsole } from "./harness";

/**
 * "Is this agent up?" as every reader answers it (agent.list, change.rollout,
 * change.preview, metrics.overview). The agent row is written here the way the
 * console holding its socket writes it (AgentStatusWriter): this console holds
 * no socket of it, as when it is connected to another console on the same
 * database. test/postgres/two-consoles.test.ts does the same with a real second
 * console and a real agent.
 */
describe("agent liveness from the shared agent rows", () => {
  let c: TestConsole;
  let clusterId: string;
  let agentId: string;
  let version: number;

  beforeAll(async () => {
    c = await startTestConsole();
    const op = callerAs(c, actors.operator);
    clusterId = (await op.cluster.create({ name: "liveness" })).id;
    await op.pool.create({ clusterId, name: "app" });
    const latest = await c.services.prisma.configVersion.findFirstOrThrow({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    version = latest.version;
    agentId = (
      await c.services.prisma.agent.create({
        data: { clusterId, name: "elsewhere", credentialHash: "not-a-real-credential-hash" },
      })
    ).id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  /** Records what another console's status writer records for the agent. */
  const record = (data: { lastHeartbeatAt?: Date; connectedAt?: Date; disconnectedAt?: Date | null }) =>
    c.services.prisma.agent.update({ where: { id: agentId }, data });

  /** What each reader says about the agent. */
  async function views() {
    const viewer = callerAs(c, actors.viewer);
    const [listed, rollout, preview, overview] = await Promise.all([
      viewer.agent.list({ clusterId }),
      viewer.change.rollout({ clusterId, version }),
      callerAs(c, actors.operator).change.preview({
        kind: "pool.create",
        input: { clusterId, name: "another" },
      }),
      viewer.metrics.overview({ clusterId }),
    ]);
    const one = <T extends { name: string }>(rows: T[]) => {
      expect(rows.map((r) => r.name)).toEqual(["elsewhere"]);
      return rows[0]!;
    };
    const l = one(listed);
    const r = one(rollout.agents);
    const p = one(preview.agents);
    return {
      list: { connected: l.connected, via: l.via },
      rollout: { connected: r.connected, via: r.via, state: r.state },
      preview: { connected: p.connected, via: p.via },
      overview,
    };
  }

  it("counts an agent another console heard from recently as up, and pending until it applies", async () => {
    const now = new Date();
    await record({ connectedAt: now, lastHeartbeatAt: now, disconnectedAt: null });
    expect(c.services.gateway.connectedAgentIds().has(agentId)).toBe(false);
    expect(await views()).toEqual({
      list: { connected: true, via: "other-console" },
      rollout: { connected: true, via: "other-console", state: "pending" },
      preview: { connected: true, via: "other-console" },
      overview: { agentsUp: 1, agentsDown: 0 },
    });
  });

  it("counts it as down once it has been silent longer than the limit (its console died)", async () => {
    await record({ lastHeartbeatAt: new Date(Date.now() - AGENT_SILENCE_LIMIT_MS - 2000) });
    expect(await views()).toEqual({
      list: { connected: false, via: null },
      rollout: { connected: false, via: null, state: "offline" },
      preview: { connected: false, via: null },
      overview: { agentsUp: 0, agentsDown: 1 },
    });
  });

  it("counts it as down at once when its console recorded the disconnect after its last heartbeat", async () => {
    const heard = new Date(Date.now() - 1000);
    await record({ lastHeartbeatAt: heard, disconnectedAt: new Date(heard.getTime() + 500) });
    expect((await views()).rollout).toEqual({ connected: false, via: null, state: "offline" });
    // A heartbeat after that disconnect (it reconnected, to whichever console) makes it up again.
    await record({ lastHeartbeatAt: new Date() });
    expect((await views()).rollout).toEqual({ connected: true, via: "other-console", state: "pending" });
  });

  it("says applied from the recorded applied version, whichever console recorded it", async () => {
    await c.services.prisma.agent.update({ where: { id: agentId }, data: { appliedVersion: version } });
    expect((await views()).rollout).toEqual({ connected: true, via: "other-console", state: "applied" });
  });
});
