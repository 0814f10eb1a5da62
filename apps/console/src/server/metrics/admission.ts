import type { PrismaClient } from "@fulcrum/db";
import type { StatsPoint } from "@fulcrum/protocol";
import { LogThrottle, logSafe } from "../gateway/log-throttle";
import type { Logger } from "../logger";
import { poolBackendKey } from "./aggregate";
import { ClusterIdIndex, type KnownIds, type ReportedScope } from "./cluster-ids";
import { getOrCreate } from "./get-or-create";
import type { AgentRef } from "./sink";

/**
 * Which of an agent's stats points, and which of their entries, count. A point
 * counts once (a reconnecting agent resends its backlog), only when stamped
 * within the retention and not far in the future, and only with entries whose
 * ids belong to the agent's cluster; while those ids are being read, the point
 * waits. This is the store's defence against an agent that invents ids or
 * replays points; what it lets through goes to `accept` (ingest.ts).
 */

/** Points stamped further than this into the future (agent clock) are dropped. */
export const MAX_FUTURE_MS = 60_000;
/** Points remembered per agent for dropping duplicates (more than the 15 minutes a resend can cover). */
const SEEN_PER_AGENT = 2000;
/**
 * Points per cluster held while its ids are read (first contact, a new
 * version): a minute of a few agents' seconds plus a backlog batch.
 */
const MAX_HELD_POINTS = 600;
const MINUTE = 60_000;
const DAY = 86_400_000;

interface HeldPoint {
  agent: AgentRef;
  point: StatsPoint;
  end: number;
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

export interface StatsAdmissionOptions {
  prisma: PrismaClient;
  log: Logger;
  retentionDays: number;
  now: () => number;
  /** Takes an admitted point (only its cluster's ids left), ending at `end`, received at `now`. */
  accept: (agent: AgentRef, p: StatsPoint, end: number, now: number) => void;
}

export class StatsAdmission {
  /** Per agent, the (seq, at) of recent points, oldest first: a resent point is dropped. */
  private readonly seen = new Map<string, Set<string>>();
  /** Which ids each cluster's agents may report. */
  private readonly ids: ClusterIdIndex;
  /** Per cluster, points that name ids not known yet, waiting for the read of its versions. */
  private readonly held = new Map<string, HeldPoint[]>();
  private readonly draining = new Set<Promise<void>>();
  /** Per cluster, stats entries dropped since start because their ids are not the cluster's. */
  private readonly droppedEntries = new Map<string, number>();
  private readonly dropLogs: LogThrottle;

  constructor(private readonly opts: StatsAdmissionOptions) {
    this.ids = new ClusterIdIndex({ prisma: opts.prisma, log: opts.log, now: opts.now });
    this.dropLogs = new LogThrottle(opts.log, { windowMs: MINUTE, perWindow: 1 }, opts.now);
  }

  /** Runs for every agent stats frame: passes on each new point in range (now, or once its cluster's ids are read). */
  admit(agent: AgentRef, points: readonly StatsPoint[]): void {
    const now = this.opts.now();
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
      this.admitPoint(agent, p, end, now);
    }
  }

  /** An agent of the cluster runs `version` now: its ids are read before its next points arrive (or those wait). */
  versionApplied(clusterId: string, version: number): void {
    void this.ids.refresh(clusterId, { version });
  }

  /** Resolves once the points held while their clusters' ids were read are passed on (or dropped). */
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

  /**
   * Passes on a point whose ids all belong to the agent's cluster; otherwise
   * holds it while the cluster's versions are read (first contact, or an id
   * of a version this console has not read yet), then passes on what belongs.
   */
  private admitPoint(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
    const { clusterId } = agent;
    const known = this.ids.known(clusterId);
    if (known && unknownIn(p, known, now) === 0) {
      this.opts.accept(agent, p, end, now);
      return;
    }
    const held = this.held.get(clusterId);
    if (held) {
      if (held.length < MAX_HELD_POINTS) held.push({ agent, point: p, end });
      else this.acceptKnown(agent, p, end, now);
      return;
    }
    const read = this.ids.refresh(clusterId, "unknown-id");
    if (!read) {
      this.acceptKnown(agent, p, end, now);
      return;
    }
    const queue: HeldPoint[] = [{ agent, point: p, end }];
    this.held.set(clusterId, queue);
    const drained = read.then(() => {
      this.held.delete(clusterId);
      const t = this.opts.now();
      for (const h of queue) this.acceptKnown(h.agent, h.point, h.end, t);
    });
    this.draining.add(drained);
    void drained.finally(() => this.draining.delete(drained));
  }

  /** Passes on the entries of `p` whose ids belong to the agent's cluster; counts and logs the rest. */
  private acceptKnown(agent: AgentRef, p: StatsPoint, end: number, now: number): void {
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
    this.opts.accept(agent, admitted, end, now);
  }
}
