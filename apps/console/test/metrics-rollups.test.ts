import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parsePrometheus } from "@fulcrum/agent/testing/prometheus";
import { createFreshPostgresDatabase, type FreshPostgres } from "@fulcrum/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConsole, startConsole } from "../src/server/start";
import { actors, callerAs, consoleDir, freePort, waitFor } from "./support/console";
import { connectFakeAgent } from "./support/fake-agent";
import { delta, latency, point } from "./support/stats";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Rollups must survive a console restart, so this console keeps its database:
 * a PGlite directory, or a fresh PostgreSQL database when DATABASE_URL is set.
 */
describe("metric rollups, restart and retention", () => {
  let dataDir: string | undefined;
  let fresh: FreshPostgres | undefined;
  let c: (RunningConsole & { url: string }) | undefined;
  let clusterId: string;
  let listenerId: string;
  let poolId: string;
  let backendId: string;
  /** Start of a completed minute, 3 minutes ago. */
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;

  async function start() {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      FULCRUM_PUBLIC_URL: `http://127.0.0.1:${port}`,
      FULCRUM_SECRET: "test-secret-test-secret-test-secret-0123456789",
      FULCRUM_METRICS_TOKEN: METRICS_TOKEN,
      ...(fresh ? { DATABASE_URL: fresh.url } : { FULCRUM_DATA_DIR: dataDir }),
    };
    const running = await startConsole({ dev: false, dir: consoleDir, env, pages: false });
    c = { ...running, url: `http://127.0.0.1:${running.port}` };
    return c;
  }

  beforeAll(async () => {
    if (process.env.DATABASE_URL) fresh = await createFreshPostgresDatabase(process.env.DATABASE_URL);
    else dataDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-metrics-"));
    const first = await start();
    const op = callerAs(first, actors.operator);
    clusterId = (await op.cluster.create({ name: "rolled" })).id;
    listenerId = (await op.listener.create({ clusterId, name: "web", bindAddress: "127.0.0.1", port: 18081 }))
      .id;
    // The store keeps series only for ids of the agent's cluster.
    poolId = (await op.pool.create({ clusterId, name: "app" })).id;
    backendId = (await op.backend.create({ poolId, name: "a", address: "127.0.0.1", port: 19081 })).id;
  });
  afterAll(async () => {
    await c?.close();
    await fresh?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const traffic = (requests: number, ms: number) =>
    delta({
      requests,
      s2xx: requests,
      bytesOut: requests * 100,
      activeConnections: 4,
      latency: latency(...Array(requests).fill(ms)),
    });

  it("writes completed minutes as rollups, merges late points into them and reads them after a restart", async () => {
    const first = c!;
    const agent = await connectFakeAgent(first, clusterId, "roller");
    // 30 seconds of 6 requests in a past minute.
    agent.stats(
      Array.from({ length: 30 }, (_, i) =>
        point(minute + (i + 1) * 1000, i, {
          listeners: { [listenerId]: traffic(6, 20) },
          backends: { [backendId]: { ...traffic(6, 20), poolId, status: "up" } },
        }),
      ),
    );
    const rowOf = () =>
      first.services.prisma.metricRollup.findUnique({
        where: {
          clusterId_scope_scopeId_minute: {
            clusterId,
            scope: "cluster",
            scopeId: "",
            minute: new Date(minute),
          },
        },
      });
    await waitFor("the points to be ingested", async () => {
      const s = await callerAs(first, actors.viewer).metrics.series({
        clusterId,
        scope: "cluster",
        range: "15m",
      });
      return s.points.length === 30;
    });
    await first.services.metrics.flush();
    const row = await rowOf();
    expect(row?.counters).toMatchObject({ requests: 180, s2xx: 180, latencyCount: 180 });

    // A late point for the same minute (an agent that was cut off) is added to the written row.
    agent.stats([point(minute + 45_000, 30, { listeners: { [listenerId]: traffic(20, 20) } })]);
    await waitFor("the late point to be written", async () => {
      await first.services.metrics.flush();
      return ((await rowOf())?.counters as { requests?: number } | undefined)?.requests === 200;
    });
    const listenerRows = await first.services.prisma.metricRollup.findMany({
      where: { clusterId, scope: "listener", scopeId: listenerId },
    });
    expect(listenerRows).toHaveLength(1);
    const agentRows = await first.services.prisma.metricRollup.count({
      where: { clusterId, scope: "agent" },
    });
    expect(agentRows).toBe(1);
    // A backend's traffic is rolled up per pool too, so a moved backend shows its rate in each pool.
    const poolBackendRows = await first.services.prisma.metricRollup.findMany({
      where: { clusterId, scope: "pool_backend" },
    });
    expect(poolBackendRows.map((r) => r.scopeId)).toEqual([`${poolId}/${backendId}`]);

    const before = await callerAs(first, actors.viewer).metrics.series({
      clusterId,
      scope: "cluster",
      range: "1h",
    });
    await agent.close();
    await first.close();
    c = undefined;

    const second = await start();
    const viewer = callerAs(second, actors.viewer);
    const hour = await viewer.metrics.series({ clusterId, scope: "cluster", range: "1h" });
    expect(hour).toEqual(before);
    expect(hour.stepMs).toBe(MINUTE);
    const p = hour.points.find((x) => x.t === minute);
    // 200 requests over the minute; connections: 4 for 31 s of 60 → ~2.07 on average.
    expect(p).toMatchObject({ rps: Number((200 / 60).toFixed(3)), s2xx: Number((200 / 60).toFixed(3)) });
    expect(p!.activeConnections).toBeCloseTo((4 * 31) / 60, 2);
    expect(p!.p50).toBeGreaterThan(18);
    expect(p!.p50).toBeLessThan(22);
    expect(hour.points.every((x) => x.t >= Date.now() - 61 * MINUTE)).toBe(true);

    const listener = await viewer.metrics.series({
      clusterId,
      scope: "listener",
      id: listenerId,
      range: "24h",
    });
    expect(listener.points.find((x) => x.t === minute)?.rps).toBe(p!.rps);
    const week = await viewer.metrics.series({ clusterId, scope: "cluster", range: "7d" });
    expect(week.stepMs).toBe(10 * MINUTE);
    const bucket = Math.floor(minute / (10 * MINUTE)) * (10 * MINUTE);
    const wp = week.points.find((x) => x.t === bucket)!;
    const seconds = Math.min(600, (Date.now() - bucket) / 1000);
    expect(wp.rps * seconds).toBeGreaterThan(199);
    expect(wp.rps * seconds).toBeLessThan(201);
    // The 1 s ranges have no history from before the restart.
    expect((await viewer.metrics.series({ clusterId, scope: "cluster", range: "5m" })).points).toEqual([]);
  });

  it("deletes only rollups and config events older than the retention (30 days by default)", async () => {
    const running = c!;
    const { prisma } = running.services;
    const now = Date.now();
    const old = new Date(Math.floor((now - 31 * DAY) / MINUTE) * MINUTE);
    const recent = new Date(Math.floor((now - 29 * DAY) / MINUTE) * MINUTE);
    for (const m of [old, recent]) {
      await prisma.metricRollup.create({
        data: { clusterId, scope: "cluster", scopeId: "", minute: m, counters: { requests: 1 } },
      });
      await prisma.agentConfigEvent.create({
        data: { agentId: "a", agentName: "a", clusterId, kind: "ack", version: 1, at: m },
      });
      await prisma.healthEvent.create({
        data: {
          clusterId,
          agentId: "a",
          agentName: "a",
          poolId: "p",
          backendId: "b",
          address: "10.0.0.1",
          port: 80,
          state: "down",
          at: m,
        },
      });
    }
    const deleted = await running.services.metrics.runRetention();
    expect(deleted).toEqual({ rollups: 1, events: 1, health: 1 });
    const left = await prisma.metricRollup.findMany({
      where: { clusterId, minute: { lt: new Date(now - DAY) } },
    });
    expect(left.map((r) => r.minute)).toEqual([recent]);
    expect(
      await prisma.agentConfigEvent.count({ where: { clusterId, at: { lt: new Date(now - DAY) } } }),
    ).toBe(1);
    expect(await prisma.metricRollup.count({ where: { minute: new Date(minute) } })).toBeGreaterThan(0);
  });

  it("protects /metrics with FULCRUM_METRICS_TOKEN", async () => {
    const url = `${c!.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    const families = parsePrometheus(await ok.text());
    expect(families.get("fulcrum_agents_connected")?.samples).toEqual([
      { name: "fulcrum_agents_connected", labels: { cluster: "rolled" }, value: 0 },
    ]);
  });
});
