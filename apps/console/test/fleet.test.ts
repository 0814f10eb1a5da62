import net from "node:net";
import type { AgentProcess } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get } from "./support/backends";
import { actors, callerAs, enrollAgent, freePort, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";

describe("walking skeleton: console → agent process → backends", () => {
  let stack: Stack;
  let c: TestConsole;
  let agent: AgentProcess;
  let listenerPort: number;
  let clusterId: string;
  let poolId: string;
  let blocker: net.Server | undefined;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge", backends: ["alpha", "bravo"] });
    ({ console: c, clusterId } = stack);
    ({ listenerPort, poolId } = await stack.webPool());
  });
  afterAll(async () => {
    await agent?.stop();
    await stack?.close();
    blocker?.close();
  });

  it("enrolls with a one-time token, receives the snapshot and balances round robin", async () => {
    const enrolled = await enrollAgent(c, clusterId, "edge-1");
    expect(enrolled.command).toContain(`--console ${c.url}`);
    agent = enrolled.agent;
    const _stateDir = enrolled.stateDir;

    await waitFor("the agent to serve the listener", async () => (await get(listenerPort)).status === 200);
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(listenerPort)).body);
    expect(new Set(bodies)).toEqual(new Set(["alpha", "bravo"]));
    for (let i = 1; i < bodies.length; i++) expect(bodies[i]).not.toBe(bodies[i - 1]);

    const latest = await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    const row = await waitFor("the agent to ack", async () => {
      const a = await c.services.prisma.agent.findFirst({ where: { name: "edge-1" } });
      return a?.appliedVersion === latest?.version ? a : undefined;
    });
    expect(row.softwareVersion).toBeTruthy();
    const listed = await callerAs(c, actors.viewer).agent.list({ clusterId });
    expect(listed[0]).toMatchObject({ name: "edge-1", connected: true, desiredVersion: latest?.version });

    // The token was for one use: a second agent cannot enroll with it.
    const again = await fetch(`${c.url}/api/agents/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: enrolled.secret, name: "edge-2" }),
    });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/used up/);
  });

  it("reaches the running agent when a backend is disabled, without restarting anything", async () => {
    const pid = agent.child.pid;
    const bravo = (await c.services.prisma.backend.findFirst({ where: { name: "bravo" } }))!;
    await callerAs(c, actors.operator).backend.setState({ id: bravo.id, state: "disabled" });
    await waitFor("traffic to leave bravo", async () => {
      const bodies = await Promise.all([1, 2, 3, 4].map(() => get(listenerPort)));
      return bodies.every((b) => b.body === "alpha");
    });
    expect(agent.child.pid).toBe(pid);
    expect(agent.child.exitCode).toBeNull();
  });

  it("keeps serving the old config when the agent refuses a snapshot, and records the reason", async () => {
    const blockedPort = await freePort();
    blocker = net.createServer();
    await new Promise<void>((r) => blocker!.listen(blockedPort, "127.0.0.1", r));
    const op = callerAs(c, actors.operator);
    const l2 = await op.listener.create({
      clusterId,
      name: "blocked",
      bindAddress: "127.0.0.1",
      port: blockedPort,
    });
    await op.route.create({ listenerId: l2.id, poolId });
    const row = await waitFor("the agent to nack", async () => {
      const a = await c.services.prisma.agent.findFirst({ where: { name: "edge-1" } });
      return a?.lastError ? a : undefined;
    });
    expect(row.lastError).toMatch(/EADDRINUSE|in use/i);
    expect((await get(listenerPort)).body).toBe("alpha");
    await op.listener.delete({ id: l2.id });
    await waitFor("the agent to ack again", async () => {
      const a = await c.services.prisma.agent.findFirst({ where: { name: "edge-1" } });
      return a && a.lastError === null;
    });
  });

  it("disconnects a revoked agent at once; its credential stops working", async () => {
    const row = (await c.services.prisma.agent.findFirst({ where: { name: "edge-1" } }))!;
    await callerAs(c, actors.admin).agent.revoke({ id: row.id });
    const code = await Promise.race([
      agent.exited,
      new Promise((r) => setTimeout(() => r("still running"), 10_000)),
    ]);
    expect(code).toBe(3);
    expect(agent.stderr()).toMatch(/revoked/i);
  });
});
