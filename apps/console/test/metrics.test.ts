import { parsePrometheus } from "@fulcrum/agent/testing/prometheus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesPoint } from "../src/server/metrics/aggregate";
import { PROMETHEUS_CONTENT_TYPE } from "../src/server/metrics/prometheus";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Stack, startStack } from "./support/stack";
import { delta, latency, point } from "./support/stats";

async function readUntil(res: Response, done: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe("metrics from agents over the real gateway", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let listenerId: string;
  let routeId: string;
  let poolId: string;
  let be1: string;
  let be2: string;
  let a: FakeAgent;
  let b: FakeAgent;
  /** Start of the first reported second, 20 s ago. */
  const base = Math.floor(Date.now() / 1000) * 1000 - 20_000;
  /** Seconds both agents report; base+2000 is missing (a gap). */
  const seconds = [base, base + 1000, base + 3000];

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, clusterId } = stack);
    const op = stack.operator;
    listenerId = (await op.listener.create({ clusterId, name: "web", bindAddress: "127.0.0.1", port: 18080 }))
      .id;
    poolId = (await op.pool.create({ clusterId, name: "app" })).id;
    be1 = (await op.backend.create({ poolId, name: "one", address: "127.0.0.1", port: 19001 })).id;
    be2 = (await op.backend.create({ poolId, name: "two", address: "127.0.0.1", port: 19002 })).id;
    routeId = (await op.route.create({ listenerId, poolId })).id;
    a = await connectFakeAgent(c, clusterId, "edge-a");
    b = await connectFakeAgent(c, clusterId, "edge-b");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await stack?.close();
  });

  const trafficA = () =>
    delta({
      requests: 10,
      s2xx: 8,
      s4xx: 1,
      s5xx: 1,
      bytesIn: 1000,
      bytesOut: 4000,
      activeConnections: 3,
      latency: latency(...Array(10).fill(5)),
    });
  const trafficB = () =>
    delta({
      requests: 5,
      s2xx: 5,
      bytesIn: 500,
      bytesOut: 2000,
      activeConnections: 2,
      latency: latency(...Array(5).fill(50)),
    });
  const pointsOf = (traffic: () => ReturnType<typeof delta>, be1Requests: number) =>
    seconds.map((t, i) =>
      point(t + 1000, i, {
        // As a real agent sends them: latency is measured per pool, not per listener or route.
        listeners: { [listenerId]: { ...traffic(), latency: undefined } },
        routes: { [routeId]: { ...traffic(), latency: undefined } },
        pools: { [poolId]: traffic() },
        backends: {
          [be1]: { ...delta({ requests: be1Requests, s2xx: be1Requests }), poolId, status: "up" },
          [be2]: { ...delta({}), poolId, status: "down" },
        },
      }),
    );

  it("merges the agents' points per second into the 5m series, with gaps where nobody reported", async () => {
    a.stats(pointsOf(trafficA, 10));
    b.stats(pointsOf(trafficB, 5));
    // A resent batch (after a reconnect) is dropped by seq.
    a.stats(pointsOf(trafficA, 10));
    const viewer = callerAs(c, actors.viewer);
    const series = await waitFor("three merged seconds", async () => {
      const s = await viewer.metrics.series({ clusterId, scope: "cluster", range: "5m" });
      return s.points.length === 3 && s.points.every((p) => p.rps === 15) ? s : undefined;
    });
    expect(series.stepMs).toBe(1000);
    expect(series.points.map((p) => p.t)).toEqual(seconds);
    const p = series.points[0]!;
    expect(p).toMatchObject({
      rps: 15,
      errorRate4xx: 1,
      errorRate5xx: 1,
      s2xx: 13,
      s3xx: 0,
      s4xx: 1,
      s5xx: 1,
      bytesInPerSec: 1500,
      bytesOutPerSec: 6000,
      activeConnections: 5,
    });
    // 10 samples at 5 ms and 5 at 50 ms: the median is ~5 ms, p99 ~50 ms (within a bucket, ~9%).
    expect(p.p50).toBeGreaterThan(4.5);
    expect(p.p50).toBeLessThan(5.5);
    expect(p.p99).toBeGreaterThan(45);
    expect(p.p99).toBeLessThan(55);

    for (const [scope, id] of [
      ["listener", listenerId],
      ["route", routeId],
      ["pool", poolId],
    ] as const) {
      const s = await viewer.metrics.series({ clusterId, scope, id, range: "15m" });
      expect(s.points.map((x) => x.rps)).toEqual([15, 15, 15]);
    }
    const agentA = await viewer.metrics.series({ clusterId, scope: "agent", id: a.id, range: "5m" });
    expect(agentA.points.map((x) => [x.rps, x.activeConnections])).toEqual([
      [10, 3],
      [10, 3],
      [10, 3],
    ]);
    // An entity without traffic in a reported second is zero there, not a gap.
    const idle = await viewer.metrics.series({ clusterId, scope: "backend", id: be2, range: "5m" });
    expect(idle.points.map((x) => [x.t, x.rps, x.p50])).toEqual(seconds.map((t) => [t, 0, null]));
    await expect(viewer.metrics.series({ clusterId, scope: "pool", range: "5m" })).rejects.toThrow(/pool/);
  });

  it("lists a pool's backends with their series and latest status", async () => {
    const res = await callerAs(c, actors.viewer).metrics.poolBackends({ clusterId, poolId, range: "5m" });
    expect(res.stepMs).toBe(1000);
    expect(Object.keys(res.series).sort()).toEqual([be1, be2].sort());
    expect(res.series[be1]!.map((p) => p.rps)).toEqual([15, 15, 15]);
    expect(res.status).toEqual({ [be1]: "up", [be2]: "down" });
    const hour = await callerAs(c, actors.viewer).metrics.poolBackends({ clusterId, poolId, range: "1h" });
    expect(hour.stepMs).toBe(60_000);
    // Minute rates; the current minute's rate is over its elapsed part only.
    const now = Date.now();
    const total = hour.series[be1]!.reduce((sum, p) => sum + p.rps * Math.min(60, (now - p.t) / 1000), 0);
    expect(total).toBeGreaterThan(44);
    expect(total).toBeLessThan(46);
  });

  it("serves Prometheus metrics in the text format", async () => {
    const res = await fetch(`${c.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    const families = parsePrometheus(await res.text());
    const value = (name: string, labels: Record<string, string>) =>
      [...families.values()]
        .flatMap((f) => f.samples)
        .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    const pool = { cluster: "edge", pool: "app" };
    expect(value("fulcrum_cluster_requests_total", { ...pool, code_class: "2xx" })).toBe(39);
    expect(value("fulcrum_cluster_requests_total", { ...pool, code_class: "4xx" })).toBe(3);
    expect(value("fulcrum_cluster_requests_total", { ...pool, code_class: "5xx" })).toBe(3);
    expect(families.get("fulcrum_pool_request_duration_seconds")?.type).toBe("histogram");
    expect(value("fulcrum_pool_request_duration_seconds_count", pool)).toBe(45);
    expect(value("fulcrum_pool_request_duration_seconds_bucket", { ...pool, le: "0.01" })).toBe(30);
    expect(value("fulcrum_agents_connected", { cluster: "edge" })).toBe(2);
    const latest = await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    expect(value("fulcrum_config_version", { cluster: "edge" })).toBe(latest!.version);
    await waitFor("both agents' applied versions", async () => {
      const text = await (await fetch(`${c.url}/metrics`)).text();
      return (
        text.includes(`fulcrum_agent_applied_version{cluster="edge",agent="edge-a"} ${latest!.version}`) &&
        text.includes(`fulcrum_agent_applied_version{cluster="edge",agent="edge-b"} ${latest!.version}`)
      );
    });
  });

  it("streams one point per completed second through the live subscription (caller and HTTP SSE)", async () => {
    let seq = 100;
    const sender = setInterval(() => {
      const end = Math.floor(Date.now() / 1000) * 1000;
      a.stats([point(end, seq++, { listeners: { [listenerId]: delta({ requests: 7, s2xx: 7 }) } })]);
    }, 250);
    try {
      const viewer = callerAs(c, actors.viewer);
      const iterable = (await viewer.metrics.live({ clusterId, scope: "listener", id: listenerId })) as
        | AsyncIterable<SeriesPoint>
        | AsyncIterator<SeriesPoint>;
      const it =
        Symbol.asyncIterator in iterable
          ? (iterable as AsyncIterable<SeriesPoint>)[Symbol.asyncIterator]()
          : (iterable as AsyncIterator<SeriesPoint>);
      const got: SeriesPoint[] = [];
      const started = Date.now();
      while (got.length < 2 && Date.now() - started < 10_000) {
        const next = await it.next();
        if (next.done) break;
        if (next.value.rps > 0) got.push(next.value);
      }
      await it.return?.();
      expect(got.length).toBe(2);
      expect(got[1]!.t - got[0]!.t).toBe(1000);
      expect(got[0]!.rps).toBeGreaterThanOrEqual(7);
      // Yielded only once complete: at least 1.5 s after the second ended.
      expect(Date.now()).toBeGreaterThanOrEqual(got[1]!.t + 1000 + 1500);

      // The same stream over HTTP as server-sent events, as httpSubscriptionLink reads it.
      const admin = await c.services.prisma.user.create({
        data: { id: "metrics-admin", name: "a", email: "metrics-admin@example.com", role: "admin" },
      });
      const token = await callerAs(c, { ...actors.admin, id: admin.id }).token.create({
        name: "graphs",
        role: "viewer",
      });
      const input = encodeURIComponent(JSON.stringify({ json: { clusterId, scope: "cluster" } }));
      const abort = new AbortController();
      const res = await fetch(`${c.url}/api/trpc/metrics.live?input=${input}`, {
        headers: { authorization: `Bearer ${token.secret}`, accept: "text/event-stream" },
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      let data: { json: SeriesPoint } | undefined;
      while (!data) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffered += decoder.decode(chunk.value, { stream: true });
        const line = buffered.split("\n").find((l) => l.startsWith("data: ") && l.includes('"rps"'));
        if (line) data = JSON.parse(line.slice("data: ".length)) as { json: SeriesPoint };
      }
      abort.abort();
      expect(data?.json.rps).toBeGreaterThanOrEqual(7);

      const unauthorized = await fetch(`${c.url}/api/trpc/metrics.live?input=${input}`, {
        headers: { accept: "text/event-stream" },
      });
      // SSE answers 200 at once; the refusal is the stream's error event (httpSubscriptionLink's onError).
      const refused = await readUntil(unauthorized, (text) => text.includes("UNAUTHORIZED"));
      expect(refused).toMatch(/event: serialized-error[\s\S]*UNAUTHORIZED/);
    } finally {
      clearInterval(sender);
    }
  });

  it("streams the pool's backends per second", async () => {
    let seq = 1000;
    const sender = setInterval(() => {
      const end = Math.floor(Date.now() / 1000) * 1000;
      b.stats([
        point(end, seq++, {
          listeners: { [listenerId]: delta({ requests: 2 }) },
          backends: { [be1]: { ...delta({ requests: 2 }), poolId, status: "draining" } },
        }),
      ]);
    }, 250);
    try {
      const iterable = await callerAs(c, actors.viewer).metrics.liveBackends({ clusterId, poolId });
      const it = (
        iterable as AsyncIterable<{ t: number; points: Record<string, SeriesPoint>; status: object }>
      )[Symbol.asyncIterator]();
      let found: { points: Record<string, SeriesPoint>; status: object } | undefined;
      const started = Date.now();
      while (!found && Date.now() - started < 10_000) {
        const next = await it.next();
        if (next.done) break;
        if ((next.value.points[be1]?.rps ?? 0) >= 2) found = next.value;
      }
      await it.return?.();
      expect(found?.points[be2]?.rps).toBe(0);
      // Agent A's last report said "up", B says "draining": the more severe one wins.
      expect(found?.status).toMatchObject({ [be1]: "draining" });
    } finally {
      clearInterval(sender);
    }
  });

  it("returns config versions and agents' acks and nacks as graph markers", async () => {
    const from = Date.now() - 60_000;
    b.answer = { kind: "nack", reason: "port 18080 in use" };
    const op = callerAs(c, actors.operator);
    await op.backend.create({ poolId, name: "three", address: "127.0.0.1", port: 19003 });
    const latest = (await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    }))!;
    const markers = await waitFor("the ack and the nack", async () => {
      const m = await callerAs(c, actors.viewer).metrics.markers({ clusterId, from, to: Date.now() + 1000 });
      const mine = m.filter((x) => x.version === latest.version);
      return mine.some((x) => x.kind === "nack") && mine.some((x) => x.kind === "ack") ? m : undefined;
    });
    expect(markers).toContainEqual({
      t: latest.createdAt.getTime(),
      kind: "config",
      version: latest.version,
      author: "operator@test",
    });
    expect(markers).toContainEqual(
      expect.objectContaining({ kind: "ack", version: latest.version, agentName: "edge-a" }),
    );
    expect(markers).toContainEqual(
      expect.objectContaining({
        kind: "nack",
        version: latest.version,
        agentName: "edge-b",
        reason: "port 18080 in use",
      }),
    );
    const ts = markers.map((m) => m.t);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    const none = await callerAs(c, actors.viewer).metrics.markers({ clusterId, from: 0, to: 1 });
    expect(none).toEqual([]);
  });

  it("keeps the backends' health changes agents report, for the pool's health timeline", async () => {
    const t0 = Date.now();
    const base = { poolId, backendId: be2, address: "127.0.0.1", port: 19002 };
    a.health([
      { ...base, state: "down", reason: "http check answered 503", at: new Date(t0 - 2000).toISOString() },
      { ...base, state: "up", at: new Date(t0 - 1000).toISOString() },
    ]);
    const viewer = callerAs(c, actors.viewer);
    const events = await waitFor("two health events", async () => {
      const e = await viewer.metrics.healthEvents({ clusterId, poolId, from: t0 - 60_000, to: t0 + 1000 });
      return e.length === 2 ? e : undefined;
    });
    expect(events).toEqual([
      { t: t0 - 2000, backendId: be2, state: "down", agentName: "edge-a", reason: "http check answered 503" },
      { t: t0 - 1000, backendId: be2, state: "up", agentName: "edge-a" },
    ]);
  });

  it("counts agents up and down", async () => {
    const viewer = callerAs(c, actors.viewer);
    expect(await viewer.metrics.overview({ clusterId })).toEqual({ agentsUp: 2, agentsDown: 0 });
    await b.close();
    await waitFor("agent b to count as down", async () => {
      const o = await viewer.metrics.overview({ clusterId });
      return o.agentsUp === 1 && o.agentsDown === 1;
    });
  });
});
