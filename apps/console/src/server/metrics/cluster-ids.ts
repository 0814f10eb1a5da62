import type { PrismaClient } from "@fulcrum/db";
import type { Logger } from "../logger";
import { poolBackendKey } from "./aggregate";

/** The scopes whose ids an agent names in its stats (the cluster and agent scopes are the console's own). */
export type ReportedScope = "listener" | "route" | "pool" | "pool_backend";

/** Versions read when the store first meets a cluster (and at most per refresh): an agent may still run an older one. */
const RECENT_VERSIONS = 10;
/**
 * An id that left the topology stays accepted this long: an agent reports it
 * until it applies the new version, and resends up to 15 minutes of points
 * buffered while the console was unreachable.
 */
export const RETIRED_ID_KEPT_MS = 16 * 60_000;
/** An unknown id makes the index look for newer versions at most this often per cluster. */
export const RECHECK_UNKNOWN_MS = 5000;

const keyOf = (scope: ReportedScope, id: string) => `${scope}\u0000${id}`;

/** The ids of one cluster that its agents may report. */
export class KnownIds {
  /** Latest version read; 0 before any. */
  version = 0;
  /** Whether a read ever succeeded (a cluster without any version has no ids to allow). */
  loaded = false;
  /** Ids of the latest version. */
  current = new Set<string>();
  /** Ids of older versions, with when this console saw them leave. */
  retired = new Map<string, number>();
  /** When the last read started. */
  lastRead = Number.NEGATIVE_INFINITY;
  reading: Promise<void> | null = null;
  /** A newer version was announced while reading: read once more. */
  again = false;

  has(scope: ReportedScope, id: string, now: number): boolean {
    const key = keyOf(scope, id);
    if (this.current.has(key)) return true;
    const left = this.retired.get(key);
    if (left === undefined) return false;
    if (left >= now - RETIRED_ID_KEPT_MS) return true;
    this.retired.delete(key);
    return false;
  }

  /** Makes `snapshot` the current version: ids it no longer lists retire now. */
  apply(version: number, snapshot: unknown, now: number): void {
    const next = idsOf(snapshot);
    for (const key of this.current) if (!next.has(key)) this.retired.set(key, now);
    for (const key of next) this.retired.delete(key);
    for (const [key, left] of this.retired) if (left < now - RETIRED_ID_KEPT_MS) this.retired.delete(key);
    this.current = next;
    this.version = version;
  }
}

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] =>
  Array.isArray(v) ? v.filter((x): x is Json => typeof x === "object" && x !== null) : [];
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Every id a snapshot (as stored in config_versions) lets an agent report. */
function idsOf(snapshot: unknown): Set<string> {
  const out = new Set<string>();
  const s = (typeof snapshot === "object" && snapshot !== null ? snapshot : {}) as Json;
  for (const l of list(s.listeners)) {
    const id = str(l.id);
    if (id !== undefined) out.add(keyOf("listener", id));
    for (const r of list(l.routes)) {
      const rid = str(r.id);
      if (rid !== undefined) out.add(keyOf("route", rid));
    }
  }
  for (const p of list(s.pools)) {
    const pid = str(p.id);
    if (pid === undefined) continue;
    out.add(keyOf("pool", pid));
    for (const b of list(p.backends)) {
      const bid = str(b.id);
      if (bid !== undefined) out.add(keyOf("pool_backend", poolBackendKey(pid, bid)));
    }
  }
  return out;
}

/**
 * Per cluster, the ids of its recent config versions: what the metrics store
 * accepts from the cluster's agents, so an agent naming invented ids cannot
 * grow the console's memory or its rollups. Membership is one Set lookup;
 * versions are read from the database when a cluster is first met, when one
 * of its agents acks a version newer than the known one, and (at most every
 * RECHECK_UNKNOWN_MS) when an agent names an unknown id.
 */
export class ClusterIdIndex {
  private readonly clusters = new Map<string, KnownIds>();

  constructor(private readonly opts: { prisma: PrismaClient; log: Logger; now: () => number }) {}

  /** The cluster's ids once a read succeeded; undefined before. */
  known(clusterId: string): KnownIds | undefined {
    const k = this.clusters.get(clusterId);
    return k?.loaded ? k : undefined;
  }

  /**
   * Reads versions newer than the known one. Resolves when the index is up to
   * date (never rejects); undefined when an unknown id asked too soon after
   * the last read. A read running already is joined.
   */
  refresh(clusterId: string, why: "unknown-id" | { version: number }): Promise<void> | undefined {
    let k = this.clusters.get(clusterId);
    if (!k) {
      k = new KnownIds();
      this.clusters.set(clusterId, k);
    }
    if (why !== "unknown-id") {
      if (why.version <= k.version) return k.reading ?? Promise.resolve();
      // The running read may have started before this version was committed.
      if (k.reading) k.again = true;
    }
    if (k.reading) return k.reading;
    if (why === "unknown-id" && this.opts.now() - k.lastRead < RECHECK_UNKNOWN_MS) return undefined;
    const known = k;
    k.reading = this.readUntilCurrent(clusterId, known).finally(() => {
      known.reading = null;
    });
    return k.reading;
  }

  /** Reads in progress (the store waits for them when it closes). */
  pending(): Promise<void>[] {
    return [...this.clusters.values()].flatMap((k) => (k.reading ? [k.reading] : []));
  }

  private async readUntilCurrent(clusterId: string, k: KnownIds): Promise<void> {
    // Bounded: `again` is set only by acks of versions this console pushed.
    for (let i = 0; i < 5; i++) {
      k.again = false;
      k.lastRead = this.opts.now();
      try {
        const rows = await this.opts.prisma.configVersion.findMany({
          where: { clusterId, version: { gt: k.version } },
          orderBy: { version: "desc" },
          take: RECENT_VERSIONS,
          select: { version: true, snapshot: true },
        });
        for (const r of rows.reverse()) k.apply(r.version, r.snapshot, this.opts.now());
        k.loaded = true;
      } catch (err) {
        this.opts.log.error("could not read the cluster's config versions for its metrics", {
          cluster: clusterId,
          err,
        });
        return;
      }
      if (!k.again) return;
    }
  }
}
