import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHealthTimeline, type TimelineConfig } from "../src/server/metrics/health-timeline";
import { MetricsStore } from "../src/server/metrics/store";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Stack, startStack } from "./support/stack";
import { delta, point } from "./support/stats";

const enabled = (...ids: string[]): TimelineConfig["backends"] =>
  new Map(ids.map((id) => [id, "enabled" as const]));

describe("buildHealthTimeline (pure)", () => {
  const config: TimelineConfig = { t: 0, backends: enabled("a", "c"), checked: true };

  it("carries the state from before the range in at its start", () => {
    const out = buildHealthTimeline({
      from: 10_000,
      to: 20_000,
      configs: [config],
      events: [{ t: 1000, agentId: "x", backendId: "a", state: "up" }],
      backendIds: ["a", "c"],
    });
    expect(out.a).toEqual([{ t: 10_000, status: "up" }]);
    // Checked pool, no verdict ever: unknown, not up.
    expect(out.c).toEqual([{ t: 10_000, status: "unknown" }]);
  });

  it("a backend no agent said anything about serves (up) once an agent runs the config", () => {
    // Agents report no event for a new backend's first good check: it serves from the start.
    const out = buildHealthTimeline({
      from: 10_000,
      to: 20_000,
      configs: [config],
      events: [],
      backendIds: ["a"],
      servingSince: 12_000,
    });
    expect(out.a).toEqual([
      { t: 10_000, status: "unknown" },
      { t: 12_000, status: "up" },
    ]);
    const before = buildHealthTimeline({
      ...{ from: 10_000, to: 20_000, configs: [config], events: [] },
      backendIds: ["a"],
      servingSince: 5000,
    });
    expect(before.a).toEqual([{ t: 10_000, status: "up" }]);
  });

  it("an ejection outlasts a health check that comes back up, and ends at its announced time", () => {
    const reason = "5 consecutive failures (last: status 500); ejection 3 for 90000 ms";
    const out = buildHealthTimeline({
      from: 0,
      to: 300_000,
      configs: [config],
      events: [
        { t: 1000, agentId: "x", backendId: "c", state: "up" },
        { t: 43_000, agentId: "x", backendId: "c", state: "ejected", reason },
        { t: 45_000, agentId: "x", backendId: "c", state: "down", reason: "http check answered 503" },
        { t: 60_000, agentId: "x", backendId: "c", state: "up" },
      ],
      backendIds: ["c"],
    });
    expect(out.c).toEqual([
      { t: 0, status: "unknown" },
      { t: 1000, status: "up" },
      { t: 43_000, status: "ejected", reason },
      { t: 45_000, status: "down", reason: "http check answered 503" },
      { t: 60_000, status: "ejected" },
      // No "restored" arrived (say the agent restarted): the ejection still ends after 90 s.
      { t: 133_000, status: "up" },
    ]);
  });

  it("configured states win, the most severe agent wins, and a backend outside the pool has no status", () => {
    const out = buildHealthTimeline({
      from: 0,
      to: 100_000,
      configs: [
        config,
        { t: 50_000, backends: new Map([["a", "draining"]]), checked: true },
        { t: 70_000, backends: new Map([["a", "disabled"]]), checked: true },
      ],
      events: [
        { t: 1000, agentId: "x", backendId: "a", state: "up" },
        { t: 1000, agentId: "y", backendId: "a", state: "up" },
        { t: 2000, agentId: "y", backendId: "c", state: "up" },
        { t: 20_000, agentId: "y", backendId: "a", state: "down" },
        { t: 30_000, agentId: "y", backendId: "a", state: "up" },
      ],
      backendIds: ["a", "c"],
    });
    expect(out.a!.map((p) => [p.t, p.status])).toEqual([
      [0, "unknown"],
      [1000, "up"],
      [20_000, "down"],
      [30_000, "up"],
      [50_000, "draining"],
      [70_000, "disabled"],
    ]);
    expect(out.c!.map((p) => [p.t, p.status])).toEqual([
      [0, "unknown"],
      [2000, "up"],
      [50_000, null],
    ]);
  });

  it("a pool without active checks shows its backends up until an agent says otherwise", () => {
    const out = buildHealthTimeline({
      from: 5000,
      to: 9000,
      configs: [{ t: 0, backends: enabled("a"), checked: false }],
      events: [],
      backendIds: ["a"],
    });
    expect(out.a).toEqual([{ t: 5000, status: "up" }]);
  });
});

describe("metrics.healthTimeline over the real gateway", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let poolId: string;
  let alpha: string;
  let charlie: string;
  let agent: FakeAgent;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, clusterId } = stack);
    const op = stack.operator;
    poolId = (
      await op.pool.create({
        clusterId,
        name: "demo",
        healthCheck: { type: "http", path: "/healthz", intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 2 },
      })
    ).id;
    alpha = (await op.backend.create({ poolId, name: "alpha", address: "127.0.0.1", port: 19101 })).id;
    charlie = (await op.backend.create({ poolId, name: "charlie", address: "127.0.0.1", port: 19103 })).id;
    agent = await connectFakeAgent(c, clusterId, "edge-a");
    // As if the pool had been set up 15 minutes ago: the events below happen after it.
    for (const v of await c.services.prisma.configVersion.findMany({ where: { clusterId } })) {
      await c.services.prisma.configVersion.update({
        where: { id: v.id },
        data: { createdAt: new Date(v.createdAt.getTime() - 900_000) },
      });
    }
  });
  afterAll(async () => {
    await agent?.close();
    await stack?.close();
  });

  it("shows the agents' states for the whole range: carried in, ejected while checks pass, restored", async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const ev = (backendId: string, port: number) => ({ poolId, backendId, address: "127.0.0.1", port });
    agent.health([
      // Both came up long before the range.
      { ...ev(alpha, 19101), state: "up", at: at(-600_000) },
      { ...ev(charlie, 19103), state: "up", at: at(-600_000) },
      // In the range: charlie is ejected, its checks fail and recover, and it is restored later.
      {
        ...ev(charlie, 19103),
        state: "ejected",
        reason: "5 consecutive failures (last: status 500); ejection 3 for 90000 ms",
        at: at(-200_000),
      },
      { ...ev(charlie, 19103), state: "down", reason: "http check answered 503", at: at(-198_000) },
      { ...ev(charlie, 19103), state: "up", at: at(-183_000) },
      { ...ev(charlie, 19103), state: "restored", reason: "ejection period over", at: at(-110_000) },
    ]);
    const viewer = callerAs(c, actors.viewer);
    const from = now - 300_000;
    const timeline = await waitFor("the events to be stored", async () => {
      const t = await viewer.metrics.healthTimeline({ clusterId, poolId, from, to: now });
      return t[charlie]?.some((p) => p.t === now - 110_000) ? t : undefined;
    });
    // Healthy all along: one "up" from the start of the range, not grey until now.
    expect(timeline[alpha]).toEqual([{ t: from, status: "up" }]);
    expect(timeline[charlie]!.map((p) => [p.t - now, p.status])).toEqual([
      [-300_000, "up"],
      [-200_000, "ejected"],
      [-198_000, "down"],
      // Checks pass again, but the ejection goes on: not "up" here.
      [-183_000, "ejected"],
      [-110_000, "up"],
    ]);
  });

  it("the board's live status of an idle backend stays what the agent said between its keyframes (60 s apart), and lapses after", async () => {
    let now = Date.now();
    const store = new MetricsStore({
      prisma: c.services.prisma,
      log: c.services.log,
      retentionDays: 1,
      now: () => now,
    });
    const agent = { id: "agent-1", name: "edge-1", clusterId };
    // An ejected backend gets no traffic: after this point it is listed again only in the next keyframe.
    store.ingest(agent, [
      point(now, 0, { backends: { [alpha]: { ...delta({}), poolId, status: "ejected" } } }),
    ]);
    // The store's first point of a cluster waits for the cluster's ids to be read.
    await store.settled();
    expect(store.backendStatusOf(alpha, poolId)).toBe("ejected");
    now += 45_000;
    expect(store.backendStatusOf(alpha, poolId)).toBe("ejected");
    expect(store.backendStatusOf(alpha, "another-pool")).toBe("unknown");
    now += 60_000;
    expect(store.backendStatusOf(alpha, poolId)).toBe("unknown");
  });

  it("shows a drain and a disable made through the console", async () => {
    const op = callerAs(c, actors.operator);
    const t0 = Date.now();
    await op.backend.setState({ id: alpha, state: "draining" });
    const t1 = Date.now();
    await op.backend.setState({ id: alpha, state: "disabled" });
    const viewer = callerAs(c, actors.viewer);
    const timeline = await viewer.metrics.healthTimeline({
      clusterId,
      poolId,
      from: t0 - 1000,
      to: Date.now(),
    });
    const statuses = timeline[alpha]!.map((p) => p.status);
    expect(statuses).toEqual(["up", "draining", "disabled"]);
    expect(timeline[alpha]![1]!.t).toBeGreaterThanOrEqual(t0 - 5);
    expect(timeline[alpha]![1]!.t).toBeLessThanOrEqual(t1 + 5);
  });
});
