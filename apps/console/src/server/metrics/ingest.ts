import type { StatsPoint } from "@fulcrum/protocol";
import { MAX_FUTURE_MS } from "./admission";
import {
  addShare,
  type DeltaVec,
  deltaVec,
  FIELD as F,
  FIELDS,
  newAgg,
  poolBackendKey,
  type Scope,
  sumVecs,
} from "./aggregate";
import type { BackendStatusBook } from "./backend-status";
import { type CarriedGauge, GaugeCarry } from "./gauge-carry";
import { getOrCreate } from "./get-or-create";
import type { HandshakeTotalsBook } from "./handshake-totals";
import type { MinuteFlush } from "./minute-flush";
import type { PoolTotalsBook } from "./pool-totals";
import { RING, type SecondRing } from "./second-ring";
import { seriesKey } from "./series-key";
import type { AgentRef } from "./sink";

/**
 * Turning one admitted stats point into what the store keeps: a contribution
 * per series (each entry, carried gauges of entries the point leaves out, the
 * cluster and agent totals), spread over the seconds the point's interval
 * overlaps into the 1-second ring and the unwritten minutes; and on the way,
 * the backends' latest status and the pools' Prometheus totals. This is the
 * hot path: it runs for every point of every agent, once a second each.
 */

const MINUTE = 60_000;

/** A carried entry: no traffic, its gauges as last reported. */
function gaugeVec(g: CarriedGauge): DeltaVec {
  const c = new Float64Array(FIELDS.length);
  c[F.activeConnectionsSec] = g.activeConnections;
  c[F.queueLengthSec] = g.queueLength;
  return { c, hist: null };
}

export interface PointIngestParts {
  ring: SecondRing;
  minutes: MinuteFlush;
  backends: BackendStatusBook;
  poolTotals: PoolTotalsBook;
  handshakeTotals: HandshakeTotalsBook;
}

export class PointIngest {
  /** Each agent's last reported gauges, carried into its points that leave an entry out. */
  private readonly carry = new GaugeCarry();

  constructor(private readonly parts: PointIngestParts) {}

  /** Forgets the carried gauges of agents that reported nothing lately (see GaugeCarry.sweep). */
  sweepCarried(now: number): void {
    this.carry.sweep(now);
  }

  /** Adds an admitted point ending at `end` (agent clock), received at `now`. */
  add(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
    const { ring, minutes, backends, poolTotals, handshakeTotals } = this.parts;
    const { clusterId } = agent;
    const contributions: Array<[Scope, string, DeltaVec]> = [];
    const listenerVecs: DeltaVec[] = [];
    for (const [id, d] of Object.entries(p.listeners)) {
      const v = deltaVec(d);
      listenerVecs.push(v);
      contributions.push(["listener", id, v]);
      if (d.tls) handshakeTotals.add(clusterId, id, agent.id, d.tls);
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
      poolTotals.add(clusterId, id, d);
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
      backends.record(agent.id, id, d, end, now);
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
      const pend = minutes.minute(Math.floor(sec / 60) * MINUTE);
      for (const [scope, id, v] of contributions) {
        const key = seriesKey(clusterId, scope, id);
        if (inRing) {
          const slot = ring.slotFor(key, sec);
          if (slot) addShare(slot.agg, v, share, gaugeSec, withLatency && !slot.q);
        }
        const entry = getOrCreate(pend, key, () => ({ clusterId, scope, id, agg: newAgg() }));
        addShare(entry.agg, v, share, gaugeSec, withLatency);
      }
    }
  }
}
