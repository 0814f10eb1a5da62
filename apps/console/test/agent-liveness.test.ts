import {
  AGENT_ENROLL_PATH,
  AGENT_GATEWAY_PATH,
  decodeConsoleMessage,
  encodeAgentMessage,
  enrollResponseSchema,
} from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AGENT_SILENCE_LIMIT_MS, livenessOf } from "../src/server/domain/agent-liveness";
import { actors, callerAs, startTestConsole, type TestConsole, waitFor } from "./support/console";

/** An agent's socket that says hello with `credential` and resolves once welcomed. */
async function helloWith(url: string, credential: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${AGENT_GATEWAY_PATH}`, {
    headers: { authorization: `Bearer ${credential}` },
  });
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      const decoded = decodeConsoleMessage(data.toString());
      if (decoded.ok && decoded.message.type === "welcome") resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(
    encodeAgentMessage("hello", {
      name: "twice",
      softwareVersion: "test-1",
      protocolVersions: [1],
      capabilities: [],
      appliedVersion: null,
      appliedHash: null,
    }),
  );
  await welcomed;
  return ws;
}

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

  it("records no disconnect for a connection replaced by the same agent's newer one", async () => {
    const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
    const res = await fetch(`${c.url}${AGENT_ENROLL_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token.secret, name: "twice" }),
    });
    const { agentId: id, credential } = enrollResponseSchema.parse(await res.json());
    const first = await helloWith(c.url, credential);
    const firstClosed = new Promise<void>((r) => first.once("close", () => r()));
    const second = await helloWith(c.url, credential);
    await firstClosed;
    // The console handled the first socket's close before the client saw it; a heartbeat
    // sent now is recorded after whatever that close recorded.
    const sentAt = new Date();
    second.send(encodeAgentMessage("heartbeat", { appliedVersion: null, uptimeMs: 1 }));
    const row = await waitFor("the heartbeat to be recorded", async () => {
      const r = await c.services.prisma.agent.findUniqueOrThrow({ where: { id } });
      return r.lastHeartbeatAt !== null && r.lastHeartbeatAt >= sentAt ? r : undefined;
    });
    expect(row.disconnectedAt).toBeNull();
    // Seen from a console that does not hold its socket, it is up.
    expect(livenessOf(row, new Set())).toMatchObject({ up: true, via: "other-console" });
    const secondClosed = new Promise<void>((r) => second.once("close", () => r()));
    second.close();
    await secondClosed;
    const closed = await waitFor("the disconnect to be recorded", async () => {
      const r = await c.services.prisma.agent.findUniqueOrThrow({ where: { id } });
      return r.disconnectedAt !== null ? r : undefined;
    });
    expect(livenessOf(closed, new Set())).toMatchObject({ up: false, via: null });
  });
});
