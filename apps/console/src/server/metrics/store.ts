import type { PrismaClient } from "@fulcrum/db";
import type { BackendStatus, HealthEvent, StatsPoint } from "@fulcrum/protocol";
import type { Logger } from "../logger";
import { StatsAdmission } from "./admission";
import { AgentEventLog } from "./agent-events";
import type { Range, Scope, SeriesPoint } from "./aggregate";
import { BackendStatusBook } from "./backend-status";
import { type HandshakeTotals, HandshakeTotalsBook } from "./handshake-totals";
import { PointIngest } from "./ingest";
import { completeSecAt, LiveSeconds } from "./live-seconds";
import { MinuteFlush } from "./minute-flush";
import { type PoolTotals, PoolTotalsBook } from "./pool-totals";
import { SeriesQueries } from "./queries";
import { deleteExpired } from "./retention";
import { SecondRing } from "./second-ring";
import type { AgentRef, ConfigEvent, StatsSink } from "./sink";

export { COMPLETE_AFTER_MS } from "./live-seconds";
export type { PoolTotals } from "./pool-totals";
export { RANGE_SPEC } from "./queries";

const HOUR = 3_600_000;

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
 *
 * This class only wires the parts together and runs their timers, so callers
 * (gateway, routers, domain, /metrics) see one object while each job lives in
 * its own file: admission.ts (which points and ids count), ingest.ts (a point
 * into series), second-ring.ts, minute-flush.ts, queries.ts, live-seconds.ts,
 * backend-status.ts, pool-totals.ts, handshake-totals.ts, agent-events.ts and retention.ts.
 */
export class MetricsStore implements StatsSink {
  private readonly now: () => number;
  private readonly ring: SecondRing;
  private readonly minutes: MinuteFlush;
  private readonly backends: BackendStatusBook;
  private readonly poolTotals = new PoolTotalsBook();
  private readonly handshakeTotals = new HandshakeTotalsBook();
  private readonly points: PointIngest;
  private readonly admission: StatsAdmission;
  private readonly queries: SeriesQueries;
  private readonly liveSeconds: LiveSeconds;
  private readonly events: AgentEventLog;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: MetricsStoreOptions) {
    const now = opts.now ?? Date.now;
    this.now = now;
    const { prisma, log } = opts;
    this.ring = new SecondRing(Math.floor(now() / 1000));
    this.minutes = new MinuteFlush({ prisma, log });
    this.backends = new BackendStatusBook(now);
    this.points = new PointIngest({
      ring: this.ring,
      minutes: this.minutes,
      backends: this.backends,
      poolTotals: this.poolTotals,
      handshakeTotals: this.handshakeTotals,
    });
    const points = this.points;
    this.admission = new StatsAdmission({
      prisma,
      log,
      now,
      retentionDays: opts.retentionDays,
      accept: (agent, p, end, at) => points.add(agent, p, end, at),
    });
    this.queries = new SeriesQueries({ ring: this.ring, minutes: this.minutes, prisma, now });
    this.liveSeconds = new LiveSeconds(completeSecAt(now()));
    this.events = new AgentEventLog({ prisma, log });
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
    this.liveSeconds.close();
    // Held points are ingested once their cluster's ids are read, so they are in the last flush.
    await this.settled();
    await this.events.settled();
    await this.flush(Number.POSITIVE_INFINITY).catch(() => {});
  }

  // ---------- from the gateway ----------

  ingest(agent: AgentRef, points: readonly StatsPoint[]): void {
    this.admission.admit(agent, points);
  }

  configEvent(agent: AgentRef, event: ConfigEvent): void {
    if (event.kind === "ack") this.admission.versionApplied(agent.clusterId, event.version);
    this.events.config(agent, event);
  }

  healthEvents(agent: AgentRef, events: readonly HealthEvent[]): void {
    this.events.health(agent, events);
  }

  /** Resolves once the points held while their clusters' ids were read are ingested (or dropped). */
  settled(): Promise<void> {
    return this.admission.settled();
  }

  /** Stats entries dropped since start because their ids are not their cluster's, by cluster. */
  droppedIds(): ReadonlyMap<string, number> {
    return this.admission.droppedIds();
  }

  /** Series held in memory (1-second rings). */
  seriesInMemory(): number {
    return this.ring.size;
  }

  // ---------- time ----------

  /** The newest complete second. */
  completeSec(): number {
    return completeSecAt(this.now());
  }

  /** Runs every 250 ms: announces completed seconds, seals old ones, forgets idle series. */
  tick(): void {
    this.liveSeconds.announce(this.completeSec());
    if (this.ring.seal(Math.floor(this.now() / 1000))) this.points.sweepCarried(this.now());
  }

  // ---------- reads ----------

  /** The 1-second point of a series for `sec`, or undefined when no agent reported that second. */
  pointAt(clusterId: string, scope: Scope, id: string, sec: number): SeriesPoint | undefined {
    return this.queries.pointAt(clusterId, scope, id, sec);
  }

  /** A series over a range: 1 s points from memory (5m, 15m), else rollups plus unwritten minutes. */
  series(
    clusterId: string,
    scope: Scope,
    ids: readonly string[],
    range: Range,
  ): Promise<{ stepMs: number; series: Map<string, SeriesPoint[]> }> {
    return this.queries.series(clusterId, scope, ids, range);
  }

  /** Requests per second of a series over the last `seconds` complete seconds (0 without reports). */
  recentRps(clusterId: string, scope: Scope, id: string, seconds = 10): number {
    return this.queries.recentRps(clusterId, scope, id, seconds);
  }

  /** Backends this console has seen traffic for, in a pool. */
  knownBackends(poolId: string): string[] {
    return this.backends.knownBackends(poolId);
  }

  /** The most severe of the agents' fresh reports of a backend (in `poolId`, if given); "unknown" without any. */
  backendStatusOf(backendId: string, poolId?: string): BackendStatus {
    return this.backends.statusOf(backendId, poolId);
  }

  /** Latest gauges of a backend (in `poolId`, if given), summed over the agents that reported it lately. */
  backendGauges(backendId: string, poolId?: string): { activeConnections: number; stickySessions: number } {
    return this.backends.gauges(backendId, poolId);
  }

  /** Cumulative per-pool totals since this console started, by cluster. */
  totals(): ReadonlyMap<string, ReadonlyMap<string, PoolTotals>> {
    return this.poolTotals.all();
  }

  /** TLS handshakes since this console started, by cluster, listener and agent. */
  handshakes(): HandshakeTotals {
    return this.handshakeTotals.all();
  }

  /** Yields each completed second until `signal` aborts or the store closes. */
  seconds(signal?: AbortSignal): AsyncGenerator<number> {
    return this.liveSeconds.seconds(signal);
  }

  /** Yields a series' point for each completed second an agent reported, until `signal` aborts or the store closes. */
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

  /** Writes every pending minute that ended at least 5 s before `until` (default: now). */
  flush(until = this.now()): Promise<void> {
    return this.minutes.flush(until);
  }

  /** Deletes rollups, agent config events and health events older than the retention. */
  async runRetention(now = this.now()): Promise<{ rollups: number; events: number }> {
    return deleteExpired(this.opts, now);
  }
}
