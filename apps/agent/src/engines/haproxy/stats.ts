import {
  createHistogram,
  type HealthEvent,
  type Histogram,
  recordValue,
  type Snapshot,
  type SnapshotBackend,
  type SnapshotPool,
} from "@fulcrum/protocol";
import { upstreamKey } from "../../dataplane/pools/backend-state";
import type { TrafficSnapshot } from "../../dataplane/stats/counters";
import type { HandshakeSnapshot } from "../../dataplane/stats/handshake-counters";
import { type BackendStats, type EngineStats, emptyEngineStats, type PoolStats } from "../engine-stats";
import { backendName, frontendName, serverName } from "./names";

type Row = Record<string, string>;

const COUNTERS = [
  "stot",
  "conn_tot",
  "req_tot",
  "bin",
  "bout",
  "econ",
  "eresp",
  "wretr",
  "chkdown",
  "cli_abrt",
  "srv_abrt",
  "hrsp_1xx",
  "hrsp_2xx",
  "hrsp_3xx",
  "hrsp_4xx",
  "hrsp_5xx",
  // The ssl stats module (HAProxy 2.3+, on every `show stat` row): TLS handshakes of a bind line.
  "ssl_sess",
  "ssl_reused_sess",
  "ssl_failed_handshake",
] as const;
type Counter = (typeof COUNTERS)[number];
type Totals = Record<Counter, number>;

const num = (v: string | undefined) => {
  const n = Number(v);
  return Number.isFinite(n) && v !== "" ? n : 0;
};

/**
 * HAProxy's counters start again at 0 in every new worker (reload, restart).
 * This keeps totals since the agent started: per row, what earlier workers
 * counted plus what the current one says.
 */
class Accumulator {
  private base = new Map<string, Totals>();
  private last = new Map<string, Totals>();

  add(key: string, row: Row): Totals {
    const base = this.base.get(key) ?? zero();
    const last = this.last.get(key);
    const now = zero();
    for (const f of COUNTERS) {
      now[f] = num(row[f]);
      if (last && now[f] < last[f]) base[f] += last[f];
    }
    this.base.set(key, base);
    this.last.set(key, now);
    const total = zero();
    for (const f of COUNTERS) total[f] = base[f] + now[f];
    return total;
  }

  /** A new worker took over: what the old one counted becomes part of the base. */
  rebase(): void {
    for (const [key, last] of this.last) {
      const base = this.base.get(key) ?? zero();
      for (const f of COUNTERS) base[f] += last[f];
      this.base.set(key, base);
    }
    this.last.clear();
  }
}

function zero(): Totals {
  return Object.fromEntries(COUNTERS.map((f) => [f, 0])) as Totals;
}

function traffic(t: Totals, row: Row, mode: "http" | "tcp"): TrafficSnapshot {
  return {
    requests: mode === "http" ? t.req_tot : 0,
    responses: {
      "1xx": t.hrsp_1xx,
      "2xx": t.hrsp_2xx,
      "3xx": t.hrsp_3xx,
      "4xx": t.hrsp_4xx,
      "5xx": t.hrsp_5xx,
    },
    aborted: t.cli_abrt,
    bytesIn: t.bin,
    bytesOut: t.bout,
    activeConnections: num(row.scur),
    totalConnections: t.conn_tot || t.stot,
  };
}

/**
 * A TLS frontend's handshakes in the builtin engine's shape. HAProxy counts a
 * completed handshake either as a new session (`ssl_sess`, a full handshake) or
 * as a resumed one (`ssl_reused_sess`), never both; our `handshakes` is both.
 * Its stats give failures no reason, so all of them are counted as `other`.
 */
function handshakes(t: Totals): HandshakeSnapshot {
  return {
    handshakes: t.ssl_sess + t.ssl_reused_sess,
    resumed: t.ssl_reused_sess,
    failures: { noSharedCipher: 0, protocolVersion: 0, unknownName: 0, other: t.ssl_failed_handshake },
  };
}

/** "UP", "UP 1/3" (going down), "no check" serve; "DOWN", "DOWN 1/2" (going up) do not. MAINT/DRAIN: admin states. */
function healthOf(status: string): "up" | "down" | undefined {
  if (status.startsWith("DOWN")) return "down";
  if (status.startsWith("UP") || status === "no check") return "up";
  return undefined;
}

/**
 * Turns `show stat` rows into EngineStats (cumulative, shaped like the builtin
 * engine's so the sampler, graphs and Prometheus read them the same way) and
 * server status changes into health events.
 *
 * Latency: HAProxy gives only `rtime`, the mean response time of the last
 * 1024 requests, so each interval's new requests are recorded at that mean.
 */
export class HaproxyStats {
  private readonly acc = new Accumulator();
  private readonly latency = new Map<string, Histogram>();
  private readonly health = new Map<string, "up" | "down">();
  private readonly drained = new Set<string>();
  private lastRequests = new Map<string, number>();
  private current = emptyEngineStats();

  constructor(private readonly emit: (e: HealthEvent) => void) {}

  get stats(): EngineStats {
    return this.current;
  }

  rebase(): void {
    this.acc.rebase();
  }

  ingest(rows: readonly Row[], snapshot: Snapshot): void {
    const byName = new Map<string, Row>();
    for (const r of rows) byName.set(`${r.pxname}/${r.svname}`, r);
    const out = emptyEngineStats();

    for (const l of snapshot.listeners) {
      const name = frontendName(l.id);
      const row = byName.get(`${name}/FRONTEND`);
      if (!row) continue;
      const mode = l.protocol === "tcp" ? "tcp" : "http";
      const t = this.acc.add(`F|${name}`, row);
      out.listeners[l.id] = {
        name: l.name,
        ...traffic(t, row, mode),
        ...(l.protocol === "http" && l.tls ? { tls: handshakes(t) } : {}),
      };
    }

    for (const p of snapshot.pools) {
      const name = backendName(p.id);
      const row = byName.get(`${name}/BACKEND`);
      if (!row) continue;
      const t = this.acc.add(`B|${name}`, row);
      const mode = row.mode === "tcp" ? "tcp" : "http";
      const stats: PoolStats = {
        name: p.name,
        ...traffic(t, row, mode),
        retries: t.wretr,
        queueLength: num(row.qcur),
        queued: 0,
        queueFull: 0,
        queueTimeouts: 0,
        noBackend: 0,
        latency: this.record(`B|${name}`, mode === "http" ? t.req_tot : t.stot, num(row.rtime)),
      };
      out.pools[p.id] = stats;
      for (const b of p.backends) {
        const srow = byName.get(`${name}/${serverName(b.id)}`);
        if (!srow) continue;
        this.addBackend(out, p, b, srow, mode);
        this.observeHealth(p, b, srow);
      }
    }
    this.current = out;
  }

  private record(key: string, total: number, meanMs: number): Histogram {
    let h = this.latency.get(key);
    if (!h) {
      h = createHistogram();
      this.latency.set(key, h);
    }
    const prev = this.lastRequests.get(key) ?? 0;
    for (let i = prev; i < total; i++) recordValue(h, meanMs);
    this.lastRequests.set(key, total);
    return { counts: [...h.counts], sum: h.sum, count: h.count };
  }

  private addBackend(
    out: EngineStats,
    p: SnapshotPool,
    b: SnapshotBackend,
    row: Row,
    mode: "http" | "tcp",
  ): void {
    const key = upstreamKey(b);
    const rowKey = `S|${backendName(p.id)}/${serverName(b.id)}`;
    const t = this.acc.add(rowKey, row);
    const latency = this.record(rowKey, t.stot, num(row.rtime));
    const prev = out.backends[key];
    const next: BackendStats = {
      address: b.address,
      port: b.port,
      attempts: t.stot,
      status1xx: t.hrsp_1xx,
      status2xx: t.hrsp_2xx,
      status3xx: t.hrsp_3xx,
      status4xx: t.hrsp_4xx,
      status5xx: t.hrsp_5xx,
      tcpSessions: mode === "tcp" ? t.stot : 0,
      connectFailures: t.econ,
      failuresBeforeResponse: t.eresp,
      timeouts: 0,
      failuresAfterResponse: 0,
      clientAborts: t.cli_abrt,
      bytesIn: t.bin,
      bytesOut: t.bout,
      healthTransitions: t.chkdown,
      ejections: 0,
      inFlight: num(row.scur),
      ewmaMs: row.rtime === "" || row.rtime === undefined ? null : num(row.rtime),
      latency,
    };
    // The same address in several pools is one builtin-engine entry: add them up.
    out.backends[key] = prev ? sumBackends(prev, next) : next;
  }

  private observeHealth(p: SnapshotPool, b: SnapshotBackend, row: Row): void {
    const key = `${p.id}|${b.id}|${upstreamKey(b)}`;
    const event = (state: HealthEvent["state"], reason?: string): HealthEvent => ({
      poolId: p.id,
      backendId: b.id,
      address: b.address,
      port: b.port,
      state,
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
      at: new Date().toISOString(),
    });
    // INI: no check has run yet in this worker (just started or reloaded without saved state).
    const checked =
      row.check_status !== undefined && row.check_status !== "" && !row.check_status.startsWith("INI");
    if (p.healthCheck.type !== "none" && checked) {
      const h = healthOf(row.status ?? "");
      if (h && this.health.get(key) !== h) {
        this.health.set(key, h);
        const why = [row.check_status, row.last_chk || row.check_desc].filter(Boolean).join(": ");
        this.emit(event(h, why || undefined));
      }
    }
    if (b.state === "draining") {
      if (!this.drained.has(key) && num(row.scur) === 0 && num(row.qcur) === 0) {
        this.drained.add(key);
        this.emit(event("drained", "no requests or connections left"));
      }
    } else {
      this.drained.delete(key);
    }
  }
}

function sumBackends(a: BackendStats, b: BackendStats): BackendStats {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof BackendStats)[]) {
    const av = a[k];
    const bv = b[k];
    if (typeof av === "number" && typeof bv === "number" && k !== "port" && k !== "ewmaMs") {
      (out as Record<string, unknown>)[k] = av + bv;
    }
  }
  const counts = a.latency.counts.map((c, i) => c + (b.latency.counts[i] ?? 0));
  out.latency = { counts, sum: a.latency.sum + b.latency.sum, count: a.latency.count + b.latency.count };
  return out;
}
