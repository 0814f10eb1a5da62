import {
  type BackendStatus,
  type Histogram,
  type Snapshot,
  type StatsPoint,
  TRAFFIC_COUNTERS,
  type TrafficCounters,
  type TrafficDelta,
  trafficCountersSchema,
} from "@fulcrum/protocol";
import { upstreamKey } from "../dataplane/pools/backend-state";
import type { TrafficSnapshot } from "../dataplane/stats/counters";
import type { AppliedSnapshot, EngineStats } from "../engines/engine";
import type { BackendStats, PoolStats } from "../engines/engine-stats";
import { guarded } from "../guard";
import { type Logger, silentLogger } from "../log";
import type { AppliedSnapshots } from "./applied-snapshots";
import type { BackendStatusTracker } from "./backend-status";
import { HandshakeDeltas } from "./handshake-delta";

/** What the sampler reads: cumulative counters since start, and which snapshot serves. */
export interface StatsSource {
  stats?(): EngineStats;
  readonly applied: AppliedSnapshot | undefined;
}

export interface SamplerOptions {
  engine: StatsSource;
  snapshots: AppliedSnapshots;
  status: BackendStatusTracker;
  /** Default 1000. */
  intervalMs?: number;
  /** Every this many points every known entry is listed, idle or not (gauges refreshed); default 60. */
  keyframeEvery?: number;
  now?: () => number;
  /** Where a bug in sampling is reported (it never stops the agent). */
  log?: Logger;
}

export type PointListener = (point: StatsPoint) => void;
type BackendEntry = StatsPoint["backends"][string];

/** Cumulative values of the protocol's traffic counters; compared to detect a reset (a counter object recreated under the same key). */
type Cumulative = TrafficCounters;

function flatTraffic(t: TrafficSnapshot): Cumulative {
  return {
    requests: t.requests,
    s1xx: t.responses["1xx"],
    s2xx: t.responses["2xx"],
    s3xx: t.responses["3xx"],
    s4xx: t.responses["4xx"],
    s5xx: t.responses["5xx"],
    bytesIn: t.bytesIn,
    bytesOut: t.bytesOut,
    connectionsOpened: t.totalConnections,
    retries: (t as Partial<PoolStats>).retries ?? 0,
  };
}

function flatBackend(b: BackendStats): Cumulative {
  return {
    requests: b.attempts,
    s1xx: b.status1xx,
    s2xx: b.status2xx,
    s3xx: b.status3xx,
    s4xx: b.status4xx,
    s5xx: b.status5xx,
    bytesIn: b.bytesIn,
    bytesOut: b.bytesOut,
    connectionsOpened: b.tcpSessions,
    retries: 0,
  };
}

/**
 * cur − prev per counter; when any counter went down the object was recreated
 * (an id that left and came back, a backend dropped and added again), so all
 * of `cur` is new.
 */
function counterDelta(cur: Cumulative, prev: Cumulative | undefined): Cumulative {
  const reset = prev === undefined || TRAFFIC_COUNTERS.some((f) => cur[f] < prev[f]);
  if (reset) return { ...cur };
  const out = { ...cur };
  for (const f of TRAFFIC_COUNTERS) out[f] = cur[f] - prev[f];
  return out;
}

/** Bucket-wise cur − prev; undefined when nothing was recorded in between. */
export function histogramDelta(cur: Histogram, prev: Histogram | undefined): Histogram | undefined {
  if (prev !== undefined && cur.count === prev.count) return undefined;
  if (prev === undefined || cur.count < prev.count) return cur.count > 0 ? copyHistogram(cur) : undefined;
  const counts = new Array<number>(cur.counts.length);
  for (let i = 0; i < cur.counts.length; i++) {
    const d = (cur.counts[i] ?? 0) - (prev.counts[i] ?? 0);
    if (d < 0) return copyHistogram(cur); // recreated in between
    counts[i] = d;
  }
  return { counts, sum: Math.max(0, cur.sum - prev.sum), count: cur.count - prev.count };
}

const copyHistogram = (h: Histogram): Histogram => ({ counts: [...h.counts], sum: h.sum, count: h.count });

interface Memory {
  counters: Cumulative;
  latency: Histogram | undefined;
}

/** Last cumulative values and last reported gauges, per entry. */
class Scope {
  prev = new Map<string, Memory>();
  next = new Map<string, Memory>();
  gauges = new Map<string, string>();

  /** Delta of one entry since the previous sample; remembers `cur` for the next one. */
  delta(key: string, counters: Cumulative, latency: Histogram | undefined) {
    let mem = this.next.get(key);
    const prev = this.prev.get(key);
    const d = counterDelta(counters, prev?.counters);
    const l = latency ? histogramDelta(latency, prev?.latency) : undefined;
    if (!mem) {
      mem = { counters, latency };
      this.next.set(key, mem);
    }
    return { d, l };
  }

  /** True when the gauges differ from what was last reported for `id` (and records them). */
  gaugesChanged(id: string, signature: string): boolean {
    if (this.gauges.get(id) === signature) return false;
    this.gauges.set(id, signature);
    return true;
  }

  /** Ends a sample: entries not seen this time are forgotten. */
  rotate(liveGaugeIds: ReadonlySet<string>): void {
    this.prev = this.next;
    this.next = new Map();
    for (const id of this.gauges.keys()) if (!liveGaugeIds.has(id)) this.gauges.delete(id);
  }
}

function toDelta(d: Cumulative, gauges: { activeConnections: number; queueLength: number }): TrafficDelta {
  return { ...d, activeConnections: gauges.activeConnections, queueLength: gauges.queueLength };
}

const anyCounter = (d: Cumulative) => TRAFFIC_COUNTERS.some((f) => d[f] !== 0);

/**
 * Turns `engine.stats()` (cumulative since start) into one StatsPoint per
 * interval: counter deltas, latency histogram deltas and gauges, per listener,
 * route, pool and snapshot backend. Entries with no traffic and unchanged
 * gauges are left out (a consumer carries gauges forward); every
 * `keyframeEvery` points everything is listed.
 */
export class StatsSampler {
  private readonly listeners = new Set<PointListener>();
  private readonly scopes = {
    listeners: new Scope(),
    routes: new Scope(),
    pools: new Scope(),
    backends: new Scope(),
  };
  private readonly handshakes = new HandshakeDeltas();
  private seq = 0;
  private lastAt: number;
  private lastSnapshot: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  readonly intervalMs: number;
  private readonly keyframeEvery: number;

  constructor(private readonly opts: SamplerOptions) {
    this.now = opts.now ?? Date.now;
    this.lastAt = this.now();
    this.intervalMs = opts.intervalMs ?? 1000;
    this.keyframeEvery = Math.max(1, opts.keyframeEvery ?? 60);
  }

  /** Returns the unsubscribe function. */
  subscribe(fn: PointListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    if (this.timer || !this.opts.engine.stats) return;
    this.timer = setInterval(
      guarded(this.opts.log ?? silentLogger, "stats sampling", () => this.tick()),
      this.intervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Samples now and hands the point to the subscribers. */
  tick(): StatsPoint | undefined {
    const point = this.sample();
    if (point) {
      for (const fn of this.listeners) {
        try {
          fn(point);
        } catch {
          // A subscriber's bug must not stop sampling.
        }
      }
    }
    return point;
  }

  /** One point covering the time since the previous one; undefined when the engine keeps no stats. */
  sample(): StatsPoint | undefined {
    const stats = this.opts.engine.stats?.();
    if (!stats) return undefined;
    const snapshot = this.opts.snapshots.resolve(this.opts.engine.applied);
    if (snapshot && snapshot !== this.lastSnapshot) {
      this.lastSnapshot = snapshot;
      this.opts.status.retain(snapshot.pools);
    }
    const t = this.now();
    const full = this.seq % this.keyframeEvery === 0;
    const point: StatsPoint = {
      at: new Date(t).toISOString(),
      intervalMs: Math.max(1, Math.round(t - this.lastAt)),
      seq: this.seq++,
      listeners: {},
      routes: {},
      pools: {},
      backends: {},
    };
    this.lastAt = t;

    const { listeners, routes, pools, backends } = this.scopes;
    const liveL = new Set<string>();
    for (const [id, l] of Object.entries(stats.listeners)) {
      liveL.add(id);
      const { d } = listeners.delta(id, flatTraffic(l), undefined);
      const g = { activeConnections: l.activeConnections, queueLength: 0 };
      const tls = l.tls ? this.handshakes.delta(id, l.tls, full) : undefined;
      if (listeners.gaugesChanged(id, `${g.activeConnections}`) || full || anyCounter(d) || tls) {
        point.listeners[id] = tls ? { ...toDelta(d, g), tls } : toDelta(d, g);
      }
    }
    listeners.rotate(liveL);
    this.handshakes.rotate();

    for (const [id, r] of Object.entries(stats.routes)) {
      const { d } = routes.delta(id, flatTraffic(r), undefined);
      if (full || anyCounter(d)) point.routes[id] = toDelta(d, { activeConnections: 0, queueLength: 0 });
    }
    routes.rotate(new Set());

    const liveP = new Set<string>();
    for (const [id, p] of Object.entries(stats.pools)) {
      liveP.add(id);
      const { d, l } = pools.delta(id, flatTraffic(p), p.latency);
      const g = { activeConnections: p.activeConnections, queueLength: p.queueLength };
      const changed = pools.gaugesChanged(id, `${g.activeConnections}/${g.queueLength}`);
      if (changed || full || anyCounter(d) || l) {
        const e = toDelta(d, g);
        if (l) e.latency = l;
        point.pools[id] = e;
      }
    }
    pools.rotate(liveP);

    const liveB = new Set<string>();
    if (snapshot) this.sampleBackends(snapshot, stats, point, full, liveB);
    // Addresses that left the snapshot are not reported but stay remembered while the engine keeps them.
    for (const [key, b] of Object.entries(stats.backends)) {
      if (!backends.next.has(key)) backends.delta(key, flatBackend(b), b.latency);
    }
    backends.rotate(liveB);
    return point;
  }

  private sampleBackends(
    snapshot: Snapshot,
    stats: EngineStats,
    point: StatsPoint,
    full: boolean,
    live: Set<string>,
  ): void {
    const scope = this.scopes.backends;
    const byKey = new Map<string, { d: Cumulative; l: Histogram | undefined; inFlight: number }>();
    for (const pool of snapshot.pools) {
      for (const b of pool.backends) {
        const key = upstreamKey(b);
        const cur = stats.backends[key];
        let delta = byKey.get(key);
        if (!delta) {
          if (cur) {
            const { d, l } = scope.delta(key, flatBackend(cur), cur.latency);
            delta = { d, l, inFlight: cur.inFlight };
          } else {
            delta = { d: trafficCountersSchema.parse({}), l: undefined, inFlight: 0 };
          }
          byKey.set(key, delta);
        }
        const status: BackendStatus = this.opts.status.status(pool, b);
        const sticky = stats.pools[pool.id]?.stickySessions?.[b.id] ?? 0;
        const gaugeId = `${pool.id}|${b.id}`;
        live.add(gaugeId);
        const changed = scope.gaugesChanged(gaugeId, `${delta.inFlight}/${status}/${sticky}`);
        if (!(changed || full || anyCounter(delta.d) || delta.l)) continue;
        const e: BackendEntry = {
          ...toDelta(delta.d, { activeConnections: delta.inFlight, queueLength: 0 }),
          poolId: pool.id,
          status,
          stickySessions: sticky,
        };
        if (delta.l) e.latency = delta.l;
        point.backends[b.id] = e;
      }
    }
  }
}
