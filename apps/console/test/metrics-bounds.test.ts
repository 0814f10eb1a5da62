import { parsePrometheus } from "@fulcrum/agent/testing/prometheus";
import type { StatsPoint } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECHECK_UNKNOWN_MS, RETIRED_ID_KEPT_MS } from "../src/server/metrics/cluster-ids";
import { MetricsStore } from "../src/server/metrics/store";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Stack, startStack } from "./support/stack";
import { delta, point } from "./support/stats";

type BackendEntry = StatsPoint["backends"][string];
const backend = (poolId: string, requests = 0): BackendEntry => ({
  ...delta({ requests, s2xx: requests }),
  poolId,
  status: "up",
});

/**
 * An agent names ids in its stats; the console keeps a series (memory now, a
 * rollup row a minute later) for each. Only ids of the agent's cluster count.
 */
describe("metrics store: an agent cannot grow the console with invented ids", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let listenerId: string;
  let routeId: string;
  let poolId: string;
  let be1: string;
  let be2: string;
  /** Ids of another cluster: real, but not this agent's to report. */
  let otherPool: string;
  let otherBackend: string;
  let agent: FakeAgent;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, clusterId } = stack);
    const op = stack.operator;
    listenerId = (await op.listener.create({ clusterId, name: "web", bindAddress: "127.0.0.1", port: 18090 }))
      .id;
    poolId = (await op.pool.create({ clusterId, name: "app" })).id;
    be1 = (await op.backend.create({ poolId, name: "one", address: "127.0.0.1", port: 19201 })).id;
    be2 = (await op.backend.create({ poolId, name: "two", address: "127.0.0.1", port: 19202 })).id;
    routeId = (await op.route.create({ listenerId, poolId })).id;
    const other = (await op.cluster.create({ name: "other" })).id;
    otherPool = (await op.pool.create({ clusterId: other, name: "theirs" })).id;
    otherBackend = (
      await op.backend.create({ poolId: otherPool, name: "x", address: "127.0.0.1", port: 19301 })
    ).id;
    agent = await connectFakeAgent(c, clusterId, "edge-a");
  });
  afterAll(async () => {
    await agent?.close();
    await stack?.close();
  });

  it("thousands of invented ids a second add no series and no rollup rows, while the real ids keep working", async () => {
    const { metrics, prisma } = c.services;
    const viewer = callerAs(c, actors.viewer);
    const invented = 3000;
    const seconds = 5;
    /** Five past seconds, each with the real entries and 3,000 new invented ids (15,000 in all). */
    const base = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const points = Array.from({ length: seconds }, (_, s) => {
      const tag = `s${s}-${Date.now().toString(36)}`;
      const p = point(base + (s + 1) * 1000, s, {
        listeners: { [listenerId]: delta({ requests: 10, s2xx: 10 }) },
        routes: { [routeId]: delta({ requests: 10, s2xx: 10 }) },
        pools: { [poolId]: delta({ requests: 10, s2xx: 10 }) },
        backends: { [be1]: backend(poolId, 6), [be2]: backend(poolId, 4) },
      });
      for (let i = 0; i < invented / 6; i++) {
        p.listeners[`fake-l-${tag}-${i}`] = delta({ requests: 1 });
        p.routes[`fake-r-${tag}-${i}`] = delta({ requests: 1 });
        p.pools[`fake-p-${tag}-${i}`] = delta({ requests: 1 });
        // Invented backends in the real pool, in an invented pool (UUID-shaped) and in another cluster's pool.
        p.backends[`fake-b-${tag}-${i}`] = backend(poolId, 1);
        p.backends[`${be1.slice(0, -4)}${i.toString(16).padStart(4, "0")}`] = backend(
          `fake-p-${tag}-${i}`,
          1,
        );
        p.backends[`fake-x-${tag}-${i}`] = backend(otherPool, 1);
      }
      p.backends[otherBackend] = backend(otherPool, 1);
      return p;
    });
    for (const p of points) agent.stats([p]);

    const pool = await waitFor("the real pool's five seconds", async () => {
      const s = await viewer.metrics.series({ clusterId, scope: "pool", id: poolId, range: "5m" });
      return s.points.length === seconds ? s : undefined;
    });
    expect(pool.points.map((p) => p.rps)).toEqual(Array(seconds).fill(10));
    // The cluster's total counts the real listener only.
    const cluster = await viewer.metrics.series({ clusterId, scope: "cluster", range: "5m" });
    expect(cluster.points.map((p) => p.rps)).toEqual(Array(seconds).fill(10));
    const perBackend = await viewer.metrics.poolBackends({ clusterId, poolId, range: "5m" });
    expect(Object.keys(perBackend.series).sort()).toEqual([be1, be2].sort());
    expect(perBackend.series[be1]!.map((p) => p.rps)).toEqual(Array(seconds).fill(6));

    // cluster, agent, listener, route, pool, 2 × backend, 2 × pool_backend.
    expect(metrics.seriesInMemory()).toBe(9);
    expect(metrics.droppedIds().get(clusterId)).toBe(seconds * (invented + 1));
    expect(metrics.totals().get(clusterId)?.size).toBe(1);
    const families = parsePrometheus(await (await fetch(`${c.url}/metrics`)).text());
    expect(families.get("fulcrum_stats_entries_dropped_total")?.samples).toEqual(
      expect.arrayContaining([
        {
          name: "fulcrum_stats_entries_dropped_total",
          labels: { cluster: "edge" },
          value: seconds * (invented + 1),
        },
        { name: "fulcrum_stats_entries_dropped_total", labels: { cluster: "other" }, value: 0 },
      ]),
    );

    await metrics.flush(Number.POSITIVE_INFINITY);
    const rows = await prisma.metricRollup.findMany({
      where: { clusterId },
      select: { scope: true, scopeId: true },
      distinct: ["scope", "scopeId"],
    });
    expect(rows.map((r) => `${r.scope} ${r.scopeId}`).sort()).toEqual(
      [
        "cluster ",
        `agent ${agent.id}`,
        `listener ${listenerId}`,
        `route ${routeId}`,
        `pool ${poolId}`,
        `backend ${be1}`,
        `backend ${be2}`,
        `pool_backend ${poolId}/${be1}`,
        `pool_backend ${poolId}/${be2}`,
      ].sort(),
    );
    expect(await prisma.metricRollup.count({ where: { scopeId: { startsWith: "fake-" } } })).toBe(0);
  });

  it("a backend added by a change counts from the agent's first point after its ack; a removed one still counts from a backlog", async () => {
    const op = callerAs(c, actors.operator);
    const viewer = callerAs(c, actors.viewer);
    const before = c.services.metrics.droppedIds().get(clusterId) ?? 0;
    const added = (await op.backend.create({ poolId, name: "three", address: "127.0.0.1", port: 19203 })).id;
    await op.backend.delete({ id: be2 });
    await waitFor("the agent to get the snapshot without 'two'", () =>
      agent.received.some(
        (m) =>
          m.type === "snapshot" &&
          m.payload.snapshot.pools.some(
            (p) => p.backends.some((b) => b.id === added) && !p.backends.some((b) => b.id === be2),
          ),
      ),
    );
    // Right after the ack (the fake agent acks as it receives): no waiting for a refresh.
    const end = Math.floor(Date.now() / 1000) * 1000;
    agent.stats([
      point(end - 2000, 100, { backends: { [be2]: backend(poolId, 2) } }),
      point(end - 1000, 101, { backends: { [added]: backend(poolId, 3), [be2]: backend(poolId, 2) } }),
    ]);
    const res = await waitFor("the new backend's point", async () => {
      const r = await viewer.metrics.poolBackends({ clusterId, poolId, range: "5m" });
      return r.series[added]?.some((p) => p.rps === 3) ? r : undefined;
    });
    expect(res.series[added]!.at(-1)?.rps).toBe(3);
    expect(c.services.metrics.recentRps(clusterId, "backend", be2, 30)).toBeGreaterThan(0);
    expect(c.services.metrics.droppedIds().get(clusterId) ?? 0).toBe(before);
  });
});

describe("metrics store: which ids count, on the store's clock", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let poolId: string;
  let kept: string;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, clusterId } = stack);
    const op = stack.operator;
    poolId = (await op.pool.create({ clusterId, name: "app" })).id;
    kept = (await op.backend.create({ poolId, name: "kept", address: "127.0.0.1", port: 19401 })).id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("an id of a version the store has not read is looked up at most every few seconds; a removed id counts for 16 minutes", async () => {
    const op = callerAs(c, actors.operator);
    // Whole seconds, so each 1-second point fills exactly the second before `now`.
    let now = Math.floor(Date.now() / 1000) * 1000;
    const store = new MetricsStore({
      prisma: c.services.prisma,
      log: c.services.log,
      retentionDays: 1,
      now: () => now,
    });
    const agent = { id: "agent-1", name: "edge-1", clusterId };
    let seq = 0;
    const send = (backends: Record<string, BackendEntry>) => {
      store.ingest(agent, [point(now, seq++, { backends })]);
      return store.settled();
    };
    const rps = (id: string) => store.pointAt(clusterId, "backend", id, Math.floor(now / 1000) - 1)?.rps ?? 0;

    // First contact: the point waits for the cluster's versions, then counts.
    await send({ [kept]: backend(poolId, 5) });
    expect(rps(kept)).toBe(5);
    expect(store.droppedIds().get(clusterId)).toBeUndefined();

    // A version the store has not read (no ack reaches this store): the first unknown id reads it.
    const fresh = (await op.backend.create({ poolId, name: "fresh", address: "127.0.0.1", port: 19402 })).id;
    now += RECHECK_UNKNOWN_MS;
    await send({ [fresh]: backend(poolId, 7) });
    expect(rps(fresh)).toBe(7);

    // Invented ids right after a read are dropped without asking the database again.
    const later = (await op.backend.create({ poolId, name: "later", address: "127.0.0.1", port: 19403 })).id;
    now += 1000;
    await send({ "invented-1": backend(poolId, 1), [later]: backend(poolId, 1) });
    expect(store.droppedIds().get(clusterId)).toBe(2);
    now += RECHECK_UNKNOWN_MS;
    await send({ "invented-2": backend(poolId, 1), [later]: backend(poolId, 2) });
    expect(store.droppedIds().get(clusterId)).toBe(3);
    expect(rps(later)).toBe(2);

    // A removed backend counts while an agent may still report it, then not.
    await op.backend.delete({ id: fresh });
    now += RECHECK_UNKNOWN_MS;
    await send({ "invented-3": backend(poolId, 1) }); // reads the version without 'fresh'
    now += RETIRED_ID_KEPT_MS - 60_000;
    await send({ [fresh]: backend(poolId, 4) });
    expect(rps(fresh)).toBe(4);
    expect(store.droppedIds().get(clusterId)).toBe(4);
    now += 120_000;
    await send({ [fresh]: backend(poolId, 4), [kept]: backend(poolId, 1) });
    expect(rps(fresh)).toBe(0);
    expect(rps(kept)).toBe(1);
    expect(store.droppedIds().get(clusterId)).toBe(5);
    await store.close();
  });
});
