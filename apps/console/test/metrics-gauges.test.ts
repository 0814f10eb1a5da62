import type { StatsPoint } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARRY_MS } from "../src/server/metrics/gauge-carry";
import { MetricsStore } from "../src/server/metrics/store";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Stack, startStack } from "./support/stack";
import { delta, point } from "./support/stats";

/**
 * Agents leave an entry out of a point when it has no traffic and its gauges
 * did not change: a connection held open for minutes is reported when it
 * opens and when it closes (and in keyframes). The store carries the gauges.
 */
describe("gauges an agent leaves out hold at what it said last", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let listenerId: string;
  let poolId: string;
  let backendId: string;
  let a: FakeAgent;
  let b: FakeAgent;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, clusterId } = stack);
    const op = stack.operator;
    listenerId = (await op.listener.create({ clusterId, name: "web", bindAddress: "127.0.0.1", port: 18095 }))
      .id;
    poolId = (await op.pool.create({ clusterId, name: "app" })).id;
    backendId = (await op.backend.create({ poolId, name: "one", address: "127.0.0.1", port: 19501 })).id;
    a = await connectFakeAgent(c, clusterId, "edge-a");
    b = await connectFakeAgent(c, clusterId, "edge-b");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await stack?.close();
  });

  it("per agent and series, until the agent reports them again", async () => {
    const base = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const at = (s: number) => base + s * 1000;
    const gauges = (listener: number, pool: number, queue: number): Partial<StatsPoint> => ({
      listeners: { [listenerId]: delta({ activeConnections: listener }) },
      pools: { [poolId]: delta({ activeConnections: pool, queueLength: queue }) },
      backends: {
        [backendId]: { ...delta({ activeConnections: pool }), poolId, status: "up", stickySessions: 1 },
      },
    });
    // Agent a: connections open in second 1, nothing to say in 2-4, closed in 5, nothing in 6.
    a.stats([
      point(at(1), 0, gauges(4, 3, 2)),
      point(at(2), 1, {}),
      point(at(3), 2, {}),
      point(at(4), 3, {}),
      point(at(5), 4, gauges(0, 0, 0)),
      point(at(6), 5, {}),
    ]);
    // Agent b: 1 connection in second 1, then silent points; a's gauges are not b's.
    b.stats([point(at(1), 0, gauges(1, 1, 0)), point(at(7), 1, {}), point(at(8), 2, {})]);

    const viewer = callerAs(c, actors.viewer);
    const cluster = await waitFor("eight seconds", async () => {
      const s = await viewer.metrics.series({ clusterId, scope: "cluster", range: "5m" });
      return s.points.length === 8 ? s : undefined;
    });
    const conns = async (scope: "listener" | "pool", id: string) =>
      (await viewer.metrics.series({ clusterId, scope, id, range: "5m" })).points.map(
        (p) => p.activeConnections,
      );
    // Second 1 has a's 4 and b's 1; b's point of second 7 carries its 1.
    expect(cluster.points.map((p) => p.activeConnections)).toEqual([5, 4, 4, 4, 0, 0, 1, 1]);
    expect(await conns("listener", listenerId)).toEqual([5, 4, 4, 4, 0, 0, 1, 1]);
    expect(await conns("pool", poolId)).toEqual([4, 3, 3, 3, 0, 0, 1, 1]);
    const perBackend = await viewer.metrics.poolBackends({ clusterId, poolId, range: "5m" });
    expect(perBackend.series[backendId]!.map((p) => p.activeConnections)).toEqual([4, 3, 3, 3, 0, 0, 1, 1]);
    const agentA = await viewer.metrics.series({ clusterId, scope: "agent", id: a.id, range: "5m" });
    expect(agentA.points.map((p) => p.activeConnections)).toEqual([4, 4, 4, 4, 0, 0, 0, 0]);
  });

  it("a carried gauge lapses after CARRY_MS without a report (a keyframe lists every entry each 60 s)", async () => {
    let now = Math.floor(Date.now() / 1000) * 1000;
    const store = new MetricsStore({
      prisma: c.services.prisma,
      log: c.services.log,
      retentionDays: 1,
      now: () => now,
    });
    const agent = { id: "agent-x", name: "edge-x", clusterId };
    const conns = () =>
      store.pointAt(clusterId, "listener", listenerId, Math.floor(now / 1000) - 1)?.activeConnections;
    store.ingest(agent, [point(now, 0, { listeners: { [listenerId]: delta({ activeConnections: 7 }) } })]);
    await store.settled();
    expect(conns()).toBe(7);
    now += CARRY_MS - 1000;
    store.ingest(agent, [point(now, 1, {})]);
    expect(conns()).toBe(7);
    now += 2000;
    store.ingest(agent, [point(now, 2, {})]);
    expect(conns()).toBe(0);
    await store.close();
  });
});
