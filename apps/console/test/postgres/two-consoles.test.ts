import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type AgentProcess, spawnAgent } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, startNamedBackend } from "../support/backends";
import { actors, callerAs, freePort, startTestConsole, type TestConsole, waitFor } from "../support/console";
import { type ConsoleProcess, spawnConsoleProcess } from "../support/console-process";

/**
 * Runs only in the PostgreSQL pass (vitest.config.ts): two console processes
 * can share PostgreSQL, never an embedded PGlite directory. Console A runs in
 * the test process (its services are used directly); console B is a separate
 * OS process the agent dials.
 */
describe("two consoles on one PostgreSQL", () => {
  let a: TestConsole;
  let b: ConsoleProcess;
  let agent: AgentProcess;
  const backends: Array<Awaited<ReturnType<typeof startNamedBackend>>> = [];
  let listenerPort: number;
  let clusterId: string;

  beforeAll(async () => {
    a = await startTestConsole();
    b = await spawnConsoleProcess({ DATABASE_URL: a.databaseUrl! });
    backends.push(await startNamedBackend("left"), await startNamedBackend("right"));
    const op = callerAs(a, actors.operator);
    clusterId = (await op.cluster.create({ name: "shared" })).id;
    listenerPort = await freePort();
    const l = await op.listener.create({
      clusterId,
      name: "web",
      bindAddress: "127.0.0.1",
      port: listenerPort,
    });
    const pool = await op.pool.create({ clusterId, name: "app" });
    for (const be of backends)
      await op.backend.create({ poolId: pool.id, name: be.name, address: "127.0.0.1", port: be.port });
    await op.route.create({ listenerId: l.id, poolId: pool.id });
    // The agent dials console B; every change below is made through console A.
    const token = await callerAs(a, actors.admin).agent.createEnrollmentToken({ clusterId });
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-two-"));
    agent = spawnAgent([
      "--console",
      b.url,
      "--token",
      token.secret,
      "--state-dir",
      stateDir,
      "--name",
      "via-b",
    ]);
    await waitFor("the agent to serve", async () => (await get(listenerPort)).status === 200);
  });
  afterAll(async () => {
    await agent?.stop();
    await b?.stop();
    await a?.stop();
    for (const be of backends) await be.close();
  });

  it("pushes a change made through one console to an agent connected to the other", async () => {
    const right = await a.services.prisma.backend.findFirst({ where: { name: "right" } });
    await callerAs(a, actors.operator).backend.setState({ id: right!.id, state: "disabled" });
    await waitFor("traffic to leave the disabled backend", async () => {
      const bodies = await Promise.all([1, 2, 3, 4].map(() => get(listenerPort)));
      return bodies.every((r) => r.body === "left");
    });
    const latest = await a.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    // Console B records the agent's ack in the shared database.
    await waitFor("console B to record the ack", async () => {
      const row = await a.services.prisma.agent.findFirst({ where: { name: "via-b" } });
      return row?.appliedVersion === latest?.version;
    });
  });

  it("shows an agent connected to the other console as up and applied on this one", async () => {
    const viewer = callerAs(a, actors.viewer);
    const latest = await a.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    // Console B records the hello and the ack; console A holds no socket of this agent.
    await waitFor("console B to record the agent's applied version", async () => {
      const row = await a.services.prisma.agent.findFirst({ where: { name: "via-b" } });
      return row?.appliedVersion === latest!.version;
    });
    expect(a.services.gateway.connectedAgentIds().size).toBe(0);

    const listed = await viewer.agent.list({ clusterId });
    expect(listed.map((x) => ({ name: x.name, connected: x.connected, via: x.via }))).toEqual([
      { name: "via-b", connected: true, via: "other-console" },
    ]);
    const rollout = await viewer.change.rollout({ clusterId, version: latest!.version });
    expect(rollout.agents.map((x) => ({ name: x.name, connected: x.connected, state: x.state }))).toEqual([
      { name: "via-b", connected: true, state: "applied" },
    ]);
    expect(rollout.settled).toBe(true);
    expect(await viewer.metrics.overview({ clusterId })).toEqual({ agentsUp: 1, agentsDown: 0 });
  });

  it("disconnects an agent revoked through the other console", async () => {
    const row = await a.services.prisma.agent.findFirst({ where: { name: "via-b" } });
    await callerAs(a, actors.admin).agent.revoke({ id: row!.id });
    const code = await Promise.race([
      agent.exited,
      new Promise((r) => setTimeout(() => r("still running"), 10_000)),
    ]);
    expect(code).toBe(3);
  });
});
