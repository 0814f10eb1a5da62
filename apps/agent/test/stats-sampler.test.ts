import {
  createHistogram,
  type Histogram,
  recordValue,
  type StatsPoint,
  statsPointSchema,
  type TrafficDelta,
} from "@fulcrum/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import type { EngineStats } from "../src/engines/engine";
import { silentLogger } from "../src/log";
import { AppliedSnapshots } from "../src/metrics/applied-snapshots";
import { BackendStatusTracker } from "../src/metrics/backend-status";
import { Ring } from "../src/metrics/ring";
import { StatsSampler } from "../src/metrics/sampler";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

type Scope = "listeners" | "routes" | "pools" | "backends";

/** Sums a field of one entry over all points. */
const total = (
  points: StatsPoint[],
  scope: Scope,
  id: string,
  field: "requests" | "s2xx" | "bytesIn" | "bytesOut" | "connectionsOpened",
) => points.reduce((n, p) => n + ((p[scope] as Record<string, TrafficDelta>)[id]?.[field] ?? 0), 0);

const latencyTotal = (points: StatsPoint[], scope: "pools" | "backends", id: string): Histogram => {
  const h = createHistogram();
  for (const p of points) {
    const l = p[scope][id]?.latency;
    if (!l) continue;
    for (let i = 0; i < h.counts.length; i++) h.counts[i]! += l.counts[i]!;
    h.sum += l.sum;
    h.count += l.count;
  }
  return h;
};

describe("stats sampler over a real engine", () => {
  let a: NamedBackend;
  let b: NamedBackend;
  let c: NamedBackend;
  let engine: NodeEngine;

  beforeEach(async () => {
    a = await startBackend("a");
    b = await startBackend("b");
    c = await startBackend("c");
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
  });
  afterEach(async () => {
    await engine.stop();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("emits deltas that add up to the engine's cumulative counters across ticks and snapshot swaps", async () => {
    const port = await freePort();
    const port2 = await freePort();
    const snapshots = new AppliedSnapshots();
    const status = new BackendStatusTracker();
    engine.onHealthEvent((e) => status.observe(e));
    const sampler = new StatsSampler({ engine, snapshots, status });
    const points: StatsPoint[] = [];
    sampler.subscribe((p) => points.push(p));
    const apply = async (s: ReturnType<typeof makeSnapshot>) => {
      snapshots.offer(s);
      await engine.apply(s);
    };
    const send = async (p: number, n: number) => {
      for (let i = 0; i < n; i++) expect((await get(p)).status).toBe(200);
    };

    await apply(makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]));
    sampler.tick();
    await send(port, 5);
    sampler.tick();
    sampler.tick(); // idle: nothing but the keyframe-free empty point
    await send(port, 3);
    sampler.tick();

    // Swap: b leaves p1, c joins; a second listener and pool serve b under another id.
    const v2 = makeSnapshot(
      2,
      [
        httpListener(port),
        httpListener(port2, { routes: [{ id: "r2", host: "", pathPrefix: "/", priority: 0, poolId: "p2" }] }),
      ],
      [backend("a", a.port), backend("c", c.port)],
      "round_robin",
      [{ id: "p2", backends: [backend("b-in-p2", b.port)] }],
    );
    await apply(v2);
    await send(port, 4);
    await send(port2, 6);
    sampler.tick();
    await send(port2, 1);
    // The second listener and its pool go away: their ids disappear from engine.stats().
    await apply(makeSnapshot(3, [httpListener(port)], [backend("a", a.port), backend("c", c.port)]));
    await send(port, 2);
    sampler.tick();
    sampler.tick();

    const final: EngineStats = engine.stats();
    for (const p of points) statsPointSchema.parse(p);
    expect(points.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const p of points) expect(p.intervalMs).toBeGreaterThan(0);
    // Idle ticks list nothing (the first point is a keyframe, listing everything known).
    expect(points[2]!.listeners).toEqual({});
    expect(points[2]!.backends).toEqual({});
    expect(points[6]!.pools).toEqual({});

    const L = `l-${port}`;
    const R = `r-${port}`;
    expect(total(points, "listeners", L, "requests")).toBe(14);
    expect(total(points, "listeners", L, "requests")).toBe(final.listeners[L]!.requests);
    expect(total(points, "listeners", L, "s2xx")).toBe(final.listeners[L]!.responses["2xx"]);
    expect(total(points, "listeners", L, "bytesIn")).toBe(final.listeners[L]!.bytesIn);
    expect(total(points, "listeners", L, "bytesOut")).toBe(final.listeners[L]!.bytesOut);
    expect(total(points, "listeners", L, "connectionsOpened")).toBe(final.listeners[L]!.totalConnections);
    expect(total(points, "routes", R, "requests")).toBe(final.routes[R]!.requests);
    expect(total(points, "pools", "p1", "requests")).toBe(final.pools.p1!.requests);
    expect(total(points, "pools", "p1", "s2xx")).toBe(14);
    const h = latencyTotal(points, "pools", "p1");
    expect(h.count).toBe(final.pools.p1!.latency.count);
    expect(h.counts).toEqual(final.pools.p1!.latency.counts);
    expect(h.sum).toBeCloseTo(final.pools.p1!.latency.sum, 6);

    // Backends by snapshot id, with their pool and status; counters are the address's.
    const aKey = `127.0.0.1:${a.port}`;
    const cKey = `127.0.0.1:${c.port}`;
    expect(total(points, "backends", "a", "requests")).toBe(final.backends[aKey]!.attempts);
    expect(total(points, "backends", "a", "s2xx")).toBe(final.backends[aKey]!.status2xx);
    expect(latencyTotal(points, "backends", "a").counts).toEqual(final.backends[aKey]!.latency.counts);
    expect(total(points, "backends", "c", "requests")).toBe(final.backends[cKey]!.attempts);
    expect(total(points, "backends", "c", "requests")).toBeGreaterThan(0);
    // b served 4 of the first 8 in p1, then 6 under p2's id until the tick; the request sent to the
    // second listener after that tick was still in the counters of ids that v3 removed before the
    // next tick, so it is not reported: an id that disappears loses at most its last partial interval.
    expect(total(points, "backends", "b", "requests")).toBe(4);
    expect(total(points, "backends", "b-in-p2", "requests")).toBe(6);
    expect(total(points, "listeners", `l-${port2}`, "requests")).toBe(6);
    expect(total(points, "pools", "p2", "requests")).toBe(6);
    for (const p of points) {
      for (const e of Object.values(p.backends)) expect(e.status).toBe("up");
      if (p.backends["b-in-p2"]) expect(p.backends["b-in-p2"].poolId).toBe("p2");
      if (p.backends.a) expect(p.backends.a.poolId).toBe("p1");
    }
    // No negative delta anywhere (the schema forbids them too).
    expect(points.every((p) => JSON.stringify(p).includes(":-") === false)).toBe(true);
  });
});

describe("stats sampler edge cases (scripted engine)", () => {
  const traffic = (requests: number, active = 0) => ({
    name: "l",
    requests,
    responses: { "1xx": 0, "2xx": requests, "3xx": 0, "4xx": 0, "5xx": 0 },
    aborted: 0,
    bytesIn: requests * 10,
    bytesOut: requests * 100,
    activeConnections: active,
    totalConnections: requests,
  });
  const pool = (requests: number, latency: Histogram) => ({
    ...traffic(requests),
    name: "web",
    retries: 0,
    queueLength: 0,
    queued: 0,
    queueFull: 0,
    queueTimeouts: 0,
    noBackend: 0,
    latency,
  });
  const hist = (...ms: number[]) => {
    const h = createHistogram();
    for (const v of ms) recordValue(h, v);
    return h;
  };

  it("treats a counter that went down as reset, reports changed gauges, and leaves idle entries out", () => {
    let current: EngineStats;
    const engine = { applied: undefined, stats: () => current };
    let t = 1_000_000;
    const sampler = new StatsSampler({
      engine,
      snapshots: new AppliedSnapshots(),
      status: new BackendStatusTracker(),
      now: () => t,
      keyframeEvery: 1000,
    });
    const step = (s: EngineStats) => {
      current = s;
      t += 1000;
      return sampler.sample()!;
    };
    const at = (requests: number, active: number, lat: Histogram): EngineStats => ({
      at: "",
      listeners: { l1: traffic(requests, active) },
      routes: {},
      pools: { p1: pool(requests, lat) },
      backends: {},
    });

    const p0 = step(at(10, 2, hist(1, 2, 3)));
    expect(p0.listeners.l1).toMatchObject({ requests: 10, activeConnections: 2, bytesOut: 1000 });
    expect(p0.pools.p1!.latency!.count).toBe(3);
    expect(p0.intervalMs).toBe(1000);

    const p1 = step(at(15, 2, hist(1, 2, 3, 50, 60)));
    expect(p1.listeners.l1).toMatchObject({ requests: 5, s2xx: 5, bytesIn: 50 });
    expect(p1.pools.p1!.latency!.count).toBe(2);
    expect(p1.pools.p1!.latency!.sum).toBeCloseTo(110, 9);

    // Nothing new, same gauges: left out. A gauge change alone is reported.
    expect(step(at(15, 2, hist(1, 2, 3, 50, 60))).listeners).toEqual({});
    const p3 = step(at(15, 0, hist(1, 2, 3, 50, 60)));
    expect(p3.listeners.l1).toMatchObject({ requests: 0, activeConnections: 0 });
    expect(p3.pools).toEqual({});

    // The counters were recreated (the id left and came back within one interval): all of it is new.
    const p4 = step(at(4, 0, hist(7)));
    expect(p4.listeners.l1!.requests).toBe(4);
    expect(p4.pools.p1!.latency!.count).toBe(1);

    // An id that disappears and comes back starts from zero again.
    expect(step({ ...at(0, 0, hist()), listeners: {}, pools: {} }).listeners).toEqual({});
    expect(step(at(3, 0, hist(1))).listeners.l1!.requests).toBe(3);
    expect(sampler.sample()!.seq).toBe(7);
  });

  it("ring keeps the newest items and counts what it dropped", () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    expect(r.takeDropped()).toBe(2);
    expect(r.shift(2)).toEqual([2, 3]);
    r.unshift([2, 3]);
    r.push(5);
    expect(r.shift(10)).toEqual([3, 4, 5]);
    expect(r.takeDropped()).toBe(1);
  });
});
