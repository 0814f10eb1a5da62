import { EventEmitter, on } from "node:events";
import type { PrismaClient } from "@fulcrum/db";
import {
  type BackendStatus,
  type HealthEvent,
  HISTOGRAM_BUCKET_COUNT,
  type StatsPoint,
} from "@fulcrum/protocol";
import { LogThrottle, logSafe } from "../gateway/log-throttle";
import type { Logger } from "../logger";
import {
  type Agg,
  addShare,
  type DeltaVec,
  deltaVec,
  FIELD as F,
  FIELDS,
  mergeAgg,
  newAgg,
  poolBackendKey,
  type Quantiles,
  quantilesOf,
  type Range,
  type Scope,
  type SeriesPoint,
  sumVecs,
  toPoint,
} from "./aggregate";
import { ClusterIdIndex, type KnownIds, type ReportedScope } from "./cluster-ids";
import { type CarriedGauge, GaugeCarry } from "./gauge-carry";
import { deleteOlderThan, type RollupRow, readRollups, reportedMinutes, writeRollups } from "./rollups";
import type { AgentRef, ConfigEvent, StatsSink } from "./sink";

/** Seconds kept at 1 s resolution (15 minutes plus a margin). */
const RING = 960;
/** A second is complete (live yields it) this long after it ends. */
export const COMPLETE_AFTER_MS = 1500;
/** After this many seconds a slot keeps only its quantiles, not the whole histogram. */
const SEAL_AFTER_S = 30;
/** Points stamped further than this into the future (agent clock) are dropped. */
const MAX_FUTURE_MS = 60_000;
/** A minute is written this long after it ends, so late seconds make it into the same write. */
const FLUSH_GRACE_MS = 5000;
/**
 * A backend status report older than this no longer counts. Agents report a
 * status when it changes, with traffic, and in every keyframe (60 s): an idle
 * backend (ejected, drained, in a pool without traffic) is reported once a
 * minute, so anything shorter shows it as unknown half of the time.
 */
const STATUS_FRESH_MS = 90_000;
/** Gauges are reported on change and in keyframes (every 60 s), so they stay valid a little longer. */
const GAUGE_FRESH_MS = 90_000;
/** Points remembered per agent for dropping duplicates (more than the 15 minutes a resend can cover). */
const SEEN_PER_AGENT = 2000;
/**
 * Points per cluster held while its ids are read (first contact, a new
 * version): a minute of a few agents' seconds plus a backlog batch.
 */
const MAX_HELD_POINTS = 600;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const STATUS_ORDER: readonly BackendStatus[] = ["down", "ejected", "draining", "disabled", "up", "unknown"];

interface Slot {
  sec: number;
  agg: Agg;
  /** Set once sealed: the histogram is dropped and these quantiles kept. */
  q: Quantiles | null;
}

interface Ring {
  slots: Array<Slot | undefined>;
  lastSec: number;
}

interface HeldPoint {
  agent: AgentRef;
  point: StatsPoint;
  end: number;
}

interface PendingEntry {
  clusterId: string;
  scope: Scope;
  id: string;
  agg: Agg;
}

/** Cumulative per-pool totals since console start, for /metrics. */
export interface PoolTotals {
  byClass: Float64Array;
  hist: Float64Array;
  latencySum: number;
  latencyCount: number;
}

export const RANGE_SPEC: Record<Range, { stepMs: number; steps: number }> = {
  "5m": { stepMs: 1000, steps: 300 },
  "15m": { stepMs: 1000, steps: 900 },
  "1h": { stepMs: MINUTE, steps: 60 },
  "24h": { stepMs: MINUTE, steps: 1440 },
  "7d": { stepMs: 10 * MINUTE, steps: 1008 },
};

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** A carried entry: no traffic, its gauges as last reported. */
function gaugeVec(g: CarriedGauge): DeltaVec {
  const c = new Float64Array(FIELDS.length);
  c[F.activeConnectionsSec] = g.activeConnections;
  c[F.queueLengthSec] = g.queueLength;
  return { c, hist: null };
}

/** How many entries of `p` name ids the cluster does not know. */
function unknownIn(p: StatsPoint, known: KnownIds, now: number): number {
  let n = 0;
  for (const id in p.listeners) if (!known.has("listener", id, now)) n++;
  for (const id in p.routes) if (!known.has("route", id, now)) n++;
  for (const id in p.pools) if (!known.has("pool", id, now)) n++;
  for (const [id, b] of Object.entries(p.backends))
    if (!known.has("pool_backend", poolBackendKey(b.poolId, id), now)) n++;
  return n;
}

const keyOf = (clusterId: string, scope: Scope, id: string) => `${clusterId}\u0000${scope}\u0000${id}`;

export interface MetricsStoreOptions {
  prisma: PrismaClient;
  log: Logger;
  retentionDays: number;
  /** Injectable clock (epoch ms). */
  now?: () => number;
}

/**
 * The console's traffic metrics: 1-second points for the last 15 minutes in
 * memory (ring buffers per series, agents merged), 1-minute rollups in the
 * database (written once a minute, upsert-merged), and the per-second "live"
 * stream. Implements the gateway's StatsSink.
 */
export class MetricsStore implements StatsSink {
  private readonly now: () => number;
  private readonly rings = new Map<string, Ring>();
  /** Minute → series → aggregate, not yet written. */
  private pending = new Map<number, Map<string, PendingEntry>>();
  /** Being written right now; still read so nothing disappears mid-write. */
  private flushing = new Map<number, Map<string, PendingEntry>>();
  /** Per agent, the (seq, at) of recent points, oldest first: a resent point is dropped. */
  private readonly seen = new Map<string, Set<string>>();
  private readonly backendPool = new Map<string, string>();
  private readonly backendStatus = new Map<
    string,
    Map<
      string,
      {
        poolId: string;
        status: BackendStatus;
        at: number;
        seen: number;
        activeConnections: number;
        stickySessions: number;
      }
    >
  >();
  private readonly poolTotals = new Map<string, Map<string, PoolTotals>>();
  /** Which ids each cluster's agents may report. */
  private readonly ids: ClusterIdIndex;
  /** Per cluster, points that name ids not known yet, waiting for the read of its versions. */
  private readonly held = new Map<string, HeldPoint[]>();
  private readonly draining = new Set<Promise<void>>();
  /** Per cluster, stats entries dropped since start because their ids are not the cluster's. */
  private readonly droppedEntries = new Map<string, number>();
  private readonly dropLogs: LogThrottle;
  private readonly carry = new GaugeCarry();
  private readonly emitter = new EventEmitter();
  private readonly closing = new AbortController();
  private readonly writes = new Set<Promise<unknown>>();
  private timers: NodeJS.Timeout[] = [];
  private lastEmitted: number;
  private lastSealed: number;
  private flushRunning: Promise<void> | null = null;

  constructor(private readonly opts: MetricsStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.ids = new ClusterIdIndex({ prisma: opts.prisma, log: opts.log, now: this.now });
    this.dropLogs = new LogThrottle(opts.log, { windowMs: MINUTE, perWindow: 1 }, this.now);
    this.emitter.setMaxListeners(0);
    this.lastEmitted = this.completeSec();
    this.lastSealed = this.nowSec() - SEAL_AFTER_S;
  }

  /** Starts the timers: live ticks, minute flushes, hourly retention (also once now). */
  start(): void {
    const tick = setInterval(() => this.tick(), 250);
    const flush = setInterval(() => void this.flush().catch(() => {}), 5000);
    const retention = setInterval(() => void this.runRetention().catch(() => {}), HOUR);
    this.timers = [tick, flush, retention];
    for (const t of this.timers) t.unref();
    void this.runRetention().catch(() => {});
  }

  /** Stops the timers, ends live streams and writes everything pending, the current minute included. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.closing.abort();
    // Held points are ingested once their cluster's ids are read, so they are in the last flush.
    await this.settled();
    await Promise.allSettled([...this.writes]);
    await this.flush(Number.POSITIVE_INFINITY).catch(() => {});
  }

  // ---------- ingest ----------

  ingest(agent: AgentRef, points: readonly StatsPoint[]): void {
    const now = this.now();
    for (const p of points) {
      const end = Date.parse(p.at);
      if (!Number.isFinite(end) || end > now + MAX_FUTURE_MS) continue;
      if (end < now - this.opts.retentionDays * DAY) continue;
      // seq restarts with each agent run, so a point is identified by seq and time together.
      const seen = getOrCreate(this.seen, agent.id, () => new Set<string>());
      const id = `${p.seq}@${end}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (seen.size > SEEN_PER_AGENT) seen.delete(seen.values().next().value!);
      this.admit(agent, p, end, now);
    }
  }

  /**
   * Ingests a point whose ids all belong to the agent's cluster; otherwise
   * holds it while the cluster's versions are read (first contact, or an id
   * of a version this console has not read yet), then ingests what belongs.
   */
  private admit(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
    const { clusterId } = agent;
    const known = this.ids.known(clusterId);
    if (known && unknownIn(p, known, now) === 0) {
      this.ingestPoint(agent, p, end, now);
      return;
    }
    const held = this.held.get(clusterId);
    if (held) {
      if (held.length < MAX_HELD_POINTS) held.push({ agent, point: p, end });
      else this.ingestKnown(agent, p, end, now);
      return;
    }
    const read = this.ids.refresh(clusterId, "unknown-id");
    if (!read) {
      this.ingestKnown(agent, p, end, now);
      return;
    }
    const queue: HeldPoint[] = [{ agent, point: p, end }];
    this.held.set(clusterId, queue);
    const drained = read.then(() => {
      this.held.delete(clusterId);
      const t = this.now();
      for (const h of queue) this.ingestKnown(h.agent, h.point, h.end, t);
    });
    this.draining.add(drained);
    void drained.finally(() => this.draining.delete(drained));
  }

  /** Ingests the entries of `p` whose ids belong to the agent's cluster; counts and logs the rest. */
  private ingestKnown(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
    const known = this.ids.known(agent.clusterId);
    let dropped = 0;
    let example = "";
    const keep = <T>(
      scope: ReportedScope,
      entries: Record<string, T>,
      idOf: (id: string, e: T) => string,
    ) => {
      const out: Record<string, T> = {};
      for (const [id, e] of Object.entries(entries)) {
        if (known?.has(scope, idOf(id, e), now)) out[id] = e;
        else if (dropped++ === 0) example = `${scope} ${idOf(id, e)}`;
      }
      return out;
    };
    const self = (id: string) => id;
    const admitted: StatsPoint = {
      ...p,
      listeners: keep("listener", p.listeners, self),
      routes: keep("route", p.routes, self),
      pools: keep("pool", p.pools, self),
      backends: keep("pool_backend", p.backends, (id, e) => poolBackendKey(e.poolId, id)),
    };
    if (dropped > 0) {
      const total = (this.droppedEntries.get(agent.clusterId) ?? 0) + dropped;
      this.droppedEntries.set(agent.clusterId, total);
      this.dropLogs.write(
        "warn",
        agent.clusterId,
        "agent stats name ids that are not in its cluster's recent config versions; dropped",
        {
          agent: logSafe(agent.name),
          cluster: agent.clusterId,
          dropped,
          droppedSinceStart: total,
          example: logSafe(example, 300),
        },
      );
    }
    this.ingestPoint(agent, admitted, end, now);
  }

  /** Resolves once the points held while their clusters' ids were read are ingested (or dropped). */
  async settled(): Promise<void> {
    // Bounded: points arriving meanwhile may start new holds.
    for (let i = 0; i < 10 && this.draining.size > 0; i++) {
      await Promise.allSettled([...this.ids.pending(), ...this.draining]);
    }
  }

  /** Stats entries dropped since start because their ids are not their cluster's, by cluster. */
  droppedIds(): ReadonlyMap<string, number> {
    return this.droppedEntries;
  }

  /** Series held in memory (1-second rings). */
  seriesInMemory(): number {
    return this.rings.size;
  }

  configEvent(agent: AgentRef, event: ConfigEvent): void {
    // The agent runs this version now: its ids are read before its next points arrive (or those wait).
    if (event.kind === "ack") void this.ids.refresh(agent.clusterId, { version: event.version });
    const write = this.opts.prisma.agentConfigEvent
      .create({
        data: {
          agentId: agent.id,
          agentName: agent.name,
          clusterId: agent.clusterId,
          kind: event.kind,
          version: event.version,
          reason: event.reason ?? null,
          at: event.at,
        },
      })
      .catch((err: unknown) => this.opts.log.error("could not record agent config event", { err }))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  healthEvents(agent: AgentRef, events: readonly HealthEvent[]): void {
    const rows = events.map((e) => ({
      clusterId: agent.clusterId,
      agentId: agent.id,
      agentName: agent.name,
      poolId: e.poolId,
      backendId: e.backendId,
      address: e.address,
      port: e.port,
      state: e.state,
      reason: e.reason ?? null,
      at: new Date(e.at),
    }));
    const write = this.opts.prisma.healthEvent
      .createMany({ data: rows })
      .catch((err: unknown) => this.opts.log.error("could not record health events", { err }))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private ingestPoint(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
    const { clusterId } = agent;
    const contributions: Array<[Scope, string, DeltaVec]> = [];
    const listenerVecs: DeltaVec[] = [];
    for (const [id, d] of Object.entries(p.listeners)) {
      const v = deltaVec(d);
      listenerVecs.push(v);
      contributions.push(["listener", id, v]);
    }
    // Gauges of entries this point leaves out hold at what the agent said last.
    const carried = this.carry.carried(agent.id, end, (scope, id) =>
      Object.hasOwn(scope === "listener" ? p.listeners : scope === "pool" ? p.pools : p.backends, id),
    );
    for (const g of carried) {
      const v = gaugeVec(g);
      if (g.scope === "listener") listenerVecs.push(v);
      if (g.scope === "backend") {
        contributions.push(["backend", g.id, v], ["pool_backend", poolBackendKey(g.poolId, g.id), v]);
      } else contributions.push([g.scope, g.id, v]);
    }
    for (const [id, d] of Object.entries(p.listeners)) {
      this.carry.report(agent.id, { scope: "listener", id, ...d }, end, now);
    }
    for (const [id, d] of Object.entries(p.pools))
      this.carry.report(agent.id, { scope: "pool", id, ...d }, end, now);
    for (const [id, d] of Object.entries(p.backends)) {
      this.carry.report(agent.id, { scope: "backend", id, ...d }, end, now);
    }
    const total = sumVecs(listenerVecs);
    contributions.push(["cluster", "", total], ["agent", agent.id, total]);
    for (const [id, d] of Object.entries(p.routes)) contributions.push(["route", id, deltaVec(d)]);
    const poolVecs: DeltaVec[] = [];
    for (const [id, d] of Object.entries(p.pools)) {
      const v = deltaVec(d);
      poolVecs.push(v);
      contributions.push(["pool", id, v]);
      this.addPoolTotals(clusterId, id, d);
    }
    // The agent measures latency per pool, not per listener: without listener
    // histograms, the totals' latency is the pools' merged.
    if (!total.hist) {
      const poolLatency = sumVecs(poolVecs);
      total.hist = poolLatency.hist;
      total.c[F.latencySum] = poolLatency.c[F.latencySum]!;
      total.c[F.latencyCount] = poolLatency.c[F.latencyCount]!;
    }
    for (const [id, d] of Object.entries(p.backends)) {
      const v = deltaVec(d);
      contributions.push(["backend", id, v], ["pool_backend", poolBackendKey(d.poolId, id), v]);
      this.backendPool.set(id, d.poolId);
      const byAgent = getOrCreate(this.backendStatus, id, () => new Map());
      const prev = byAgent.get(agent.id);
      if (!prev || prev.at <= end) {
        byAgent.set(agent.id, {
          poolId: d.poolId,
          status: d.status,
          at: end,
          seen: now,
          activeConnections: d.activeConnections,
          stickySessions: d.stickySessions ?? 0,
        });
      }
    }

    // The interval [start, end) is spread over the seconds it overlaps; latency goes to its middle second.
    const start = end - p.intervalMs;
    const midSec = Math.floor((start + end) / 2 / 1000);
    const nowSec = Math.floor(now / 1000);
    for (let sec = Math.floor(start / 1000); sec * 1000 < end; sec++) {
      const overlap = Math.min(end, (sec + 1) * 1000) - Math.max(start, sec * 1000);
      if (overlap <= 0) continue;
      const share = overlap / p.intervalMs;
      const gaugeSec = overlap / 1000;
      const withLatency = sec === midSec;
      const inRing = sec > nowSec - RING && sec <= nowSec + MAX_FUTURE_MS / 1000;
      const minute = Math.floor(sec / 60) * MINUTE;
      const pend = getOrCreate(this.pending, minute, () => new Map());
      for (const [scope, id, v] of contributions) {
        const key = keyOf(clusterId, scope, id);
        if (inRing) {
          const slot = this.slotFor(key, sec);
          if (slot) addShare(slot.agg, v, share, gaugeSec, withLatency && !slot.q);
        }
        const entry = getOrCreate(pend, key, () => ({ clusterId, scope, id, agg: newAgg() }));
        addShare(entry.agg, v, share, gaugeSec, withLatency);
      }
    }
  }

  private addPoolTotals(clusterId: string, poolId: string, d: StatsPoint["pools"][string]): void {
    const pools = getOrCreate(this.poolTotals, clusterId, () => new Map());
    let t = pools.get(poolId);
    if (!t) {
      t = {
        byClass: new Float64Array(5),
        hist: new Float64Array(HISTOGRAM_BUCKET_COUNT),
        latencySum: 0,
        latencyCount: 0,
      };
      pools.set(poolId, t);
    }
    t.byClass[0]! += d.s1xx;
    t.byClass[1]! += d.s2xx;
    t.byClass[2]! += d.s3xx;
    t.byClass[3]! += d.s4xx;
    t.byClass[4]! += d.s5xx;
    if (d.latency) {
      for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) t.hist[i]! += d.latency.counts[i] ?? 0;
      t.latencySum += d.latency.sum;
      t.latencyCount += d.latency.count;
    }
  }

  /** The slot for `sec`, recycled when it holds an older second; undefined when it holds a newer one. */
  private slotFor(key: string, sec: number): Slot | undefined {
    const ring = getOrCreate(this.rings, key, (): Ring => ({ slots: new Array(RING), lastSec: sec }));
    ring.lastSec = Math.max(ring.lastSec, sec);
    const i = ((sec % RING) + RING) % RING;
    const slot = ring.slots[i];
    if (slot && slot.sec === sec) return slot;
    if (slot && slot.sec > sec) return undefined;
    const fresh: Slot = { sec, agg: newAgg(), q: null };
    ring.slots[i] = fresh;
    return fresh;
  }

  private slotAt(key: string, sec: number): Slot | undefined {
    const slot = this.rings.get(key)?.slots[((sec % RING) + RING) % RING];
    return slot?.sec === sec ? slot : undefined;
  }

  // ---------- time ----------

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  /** The newest complete second. */
  completeSec(): number {
    return Math.floor((this.now() - COMPLETE_AFTER_MS) / 1000) - 1;
  }

  /** Runs every 250 ms: announces completed seconds, seals old ones, forgets idle series. */
  tick(): void {
    const complete = this.completeSec();
    if (complete > this.lastEmitted) {
      for (let s = Math.max(this.lastEmitted + 1, complete - 4); s <= complete; s++)
        this.emitter.emit("second", s);
      this.lastEmitted = complete;
    }
    const sealTo = this.nowSec() - SEAL_AFTER_S;
    if (sealTo > this.lastSealed) {
      const from = Math.max(this.lastSealed + 1, sealTo - RING + 1);
      for (const [key, ring] of this.rings) {
        if (ring.lastSec < sealTo - RING) {
          this.rings.delete(key);
          continue;
        }
        for (let s = from; s <= sealTo; s++) {
          const slot = this.slotAt(key, s);
          if (slot && !slot.q) {
            slot.q = quantilesOf(slot.agg);
            slot.agg.hist = null;
          }
        }
      }
      this.lastSealed = sealTo;
      this.carry.sweep(this.now());
    }
  }

  // ---------- reads ----------

  /** The 1-second point of a series for `sec`, or undefined when no agent reported that second. */
  pointAt(clusterId: string, scope: Scope, id: string, sec: number): SeriesPoint | undefined {
    const cluster = this.slotAt(keyOf(clusterId, "cluster", ""), sec);
    if (!cluster) return undefined;
    const slot = scope === "cluster" ? cluster : this.slotAt(keyOf(clusterId, scope, id), sec);
    return toPoint(sec * 1000, slot?.agg, 1, slot?.q ?? undefined);
  }

  /** A series over a range: 1 s points from memory (5m, 15m), else rollups plus unwritten minutes. */
  async series(
    clusterId: string,
    scope: Scope,
    ids: readonly string[],
    range: Range,
  ): Promise<{ stepMs: number; series: Map<string, SeriesPoint[]> }> {
    const { stepMs, steps } = RANGE_SPEC[range];
    const out = new Map<string, SeriesPoint[]>(ids.map((id) => [id, []]));
    if (stepMs === 1000) {
      const end = this.completeSec();
      for (let sec = end - steps + 1; sec <= end; sec++) {
        for (const id of ids) {
          const p = this.pointAt(clusterId, scope, id, sec);
          if (p) out.get(id)!.push(p);
        }
      }
      return { stepMs, series: out };
    }
    const now = this.now();
    const to = Math.floor(now / stepMs) * stepMs + stepMs;
    const from = to - steps * stepMs;
    const [rows, present] = await Promise.all([
      readRollups(this.opts.prisma, clusterId, scope, ids, from, to),
      scope === "cluster" ? Promise.resolve(null) : reportedMinutes(this.opts.prisma, clusterId, from, to),
    ]);
    const presentSteps = new Set<number>();
    const buckets = new Map<string, Map<number, Agg>>(ids.map((id) => [id, new Map()]));
    const add = (id: string, minute: number, agg: Agg) => {
      const t = Math.floor(minute / stepMs) * stepMs;
      const b = buckets.get(id);
      if (!b) return;
      const into = getOrCreate(b, t, () => newAgg());
      mergeAgg(into, agg);
    };
    for (const r of rows) {
      add(r.scopeId, r.minute, r.agg);
      if (scope === "cluster") presentSteps.add(Math.floor(r.minute / stepMs) * stepMs);
    }
    for (const m of present ?? []) presentSteps.add(Math.floor(m / stepMs) * stepMs);
    for (const map of [this.pending, this.flushing]) {
      for (const [minute, entries] of map) {
        if (minute < from || minute >= to) continue;
        if (entries.has(keyOf(clusterId, "cluster", "")))
          presentSteps.add(Math.floor(minute / stepMs) * stepMs);
        for (const id of ids) {
          const e = entries.get(keyOf(clusterId, scope, id));
          if (e) add(id, minute, e.agg);
        }
      }
    }
    const ts = [...presentSteps].sort((a, b) => a - b);
    for (const id of ids) {
      const b = buckets.get(id)!;
      out.set(
        id,
        ts.map((t) => toPoint(t, b.get(t), Math.max(1, Math.min(stepMs, now - t) / 1000))),
      );
    }
    return { stepMs, series: out };
  }

  /** Backends this console has seen traffic for, in a pool. */
  knownBackends(poolId: string): string[] {
    return [...this.backendPool].filter(([, p]) => p === poolId).map(([b]) => b);
  }

  /**
   * The most severe of the agents' fresh reports; "unknown" without any. With
   * `poolId`, only reports of the backend as a member of that pool count (a
   * backend just moved away is not reported there any more).
   */
  backendStatusOf(backendId: string, poolId?: string): BackendStatus {
    const seenAfter = this.now() - STATUS_FRESH_MS;
    const fresh = [...(this.backendStatus.get(backendId)?.values() ?? [])].filter(
      (s) => s.seen >= seenAfter && (poolId === undefined || s.poolId === poolId),
    );
    for (const status of STATUS_ORDER) if (fresh.some((s) => s.status === status)) return status;
    return "unknown";
  }

  /**
   * Latest gauges of a backend, summed over the agents that reported it within
   * GAUGE_FRESH_MS (agents report a gauge when it changes and in every keyframe).
   */
  backendGauges(backendId: string, poolId?: string): { activeConnections: number; stickySessions: number } {
    const seenAfter = this.now() - GAUGE_FRESH_MS;
    let activeConnections = 0;
    let stickySessions = 0;
    for (const s of this.backendStatus.get(backendId)?.values() ?? []) {
      if (s.seen < seenAfter || (poolId !== undefined && s.poolId !== poolId)) continue;
      activeConnections += s.activeConnections;
      stickySessions += s.stickySessions;
    }
    return { activeConnections, stickySessions };
  }

  /** Requests per second of a series over the last `seconds` complete seconds (0 without reports). */
  recentRps(clusterId: string, scope: Scope, id: string, seconds = 10): number {
    const key = keyOf(clusterId, scope, id);
    const end = this.completeSec();
    let requests = 0;
    for (let sec = end - seconds + 1; sec <= end; sec++) {
      requests += this.slotAt(key, sec)?.agg.c[F.requests] ?? 0;
    }
    return requests / seconds;
  }

  /** Cumulative per-pool totals since this console started, by cluster. */
  totals(): ReadonlyMap<string, ReadonlyMap<string, PoolTotals>> {
    return this.poolTotals;
  }

  /** Yields each completed second until `signal` aborts or the store closes. */
  async *seconds(signal?: AbortSignal): AsyncGenerator<number> {
    const sig = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    if (sig.aborted) return;
    try {
      for await (const [sec] of on(this.emitter, "second", { signal: sig })) yield sec as number;
    } catch (err) {
      if (sig.aborted) return;
      throw err;
    }
  }

  async *live(
    clusterId: string,
    scope: Scope,
    id: string,
    signal?: AbortSignal,
  ): AsyncGenerator<SeriesPoint> {
    for await (const sec of this.seconds(signal)) {
      const p = this.pointAt(clusterId, scope, id, sec);
      if (p) yield p;
    }
  }

  // ---------- persistence ----------

  /** Writes every pending minute that ended at least FLUSH_GRACE_MS before `until` (default: now). */
  async flush(until = this.now()): Promise<void> {
    while (this.flushRunning) await this.flushRunning;
    const run = this.flushNow(until);
    this.flushRunning = run;
    try {
      await run;
    } finally {
      this.flushRunning = null;
    }
  }

  private async flushNow(until: number): Promise<void> {
    const due = [...this.pending.keys()].filter((m) => m + MINUTE + FLUSH_GRACE_MS <= until);
    if (due.length === 0) return;
    for (const m of due) {
      this.flushing.set(m, this.pending.get(m)!);
      this.pending.delete(m);
    }
    const rows: RollupRow[] = [];
    for (const [minute, entries] of this.flushing) {
      for (const e of entries.values())
        rows.push({ clusterId: e.clusterId, scope: e.scope, scopeId: e.id, minute, agg: e.agg });
    }
    try {
      await writeRollups(this.opts.prisma, rows);
      this.flushing.clear();
    } catch (err) {
      this.opts.log.error("could not write metric rollups; will retry", { err });
      // Put them back, merged with anything that arrived meanwhile.
      for (const [minute, entries] of this.flushing) {
        const pend = getOrCreate(this.pending, minute, () => new Map());
        for (const [key, e] of entries) {
          const cur = pend.get(key);
          if (cur) mergeAgg(cur.agg, e.agg);
          else pend.set(key, e);
        }
      }
      this.flushing.clear();
      throw err;
    }
  }

  /** Deletes rollups and agent config events older than the retention. */
  async runRetention(now = this.now()): Promise<{ rollups: number; events: number }> {
    try {
      const deleted = await deleteOlderThan(this.opts.prisma, now - this.opts.retentionDays * DAY);
      if (deleted.rollups + deleted.events > 0) this.opts.log.info("metrics retention", deleted);
      return deleted;
    } catch (err) {
      this.opts.log.error("metrics retention failed", { err });
      throw err;
    }
  }
}
