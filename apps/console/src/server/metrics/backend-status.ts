import type { BackendStatus, StatsPoint } from "@fulcrum/protocol";
import { getOrCreate } from "./get-or-create";

/**
 * What the agents last said about each backend: its status and gauges as a
 * member of a pool, per agent. The board's dots, the change preview and the
 * pool cards read it. Kept apart from the series because it answers "now"
 * (latest report, freshness, most severe wins), not "how much over time".
 */

/**
 * A backend status report older than this no longer counts. Agents report a
 * status when it changes, with traffic, and in every keyframe (60 s): an idle
 * backend (ejected, drained, in a pool without traffic) is reported once a
 * minute, so anything shorter shows it as unknown half of the time.
 */
const STATUS_FRESH_MS = 90_000;
/** Gauges are reported on change and in keyframes (every 60 s), so they stay valid a little longer. */
const GAUGE_FRESH_MS = 90_000;

const STATUS_ORDER: readonly BackendStatus[] = ["down", "ejected", "draining", "disabled", "up", "unknown"];

interface BackendReport {
  poolId: string;
  status: BackendStatus;
  /** End of the point that reported it (agent clock). */
  at: number;
  /** When this console received it. */
  seen: number;
  activeConnections: number;
  stickySessions: number;
}

export class BackendStatusBook {
  /** Backend → the pool it was last reported in. */
  private readonly poolOf = new Map<string, string>();
  /** Backend → agent → its latest report. */
  private readonly reports = new Map<string, Map<string, BackendReport>>();

  constructor(private readonly now: () => number) {}

  /** Records an agent's report of a backend in a point ending at `end`; an older point does not replace a newer one. */
  record(
    agentId: string,
    backendId: string,
    d: StatsPoint["backends"][string],
    end: number,
    now: number,
  ): void {
    this.poolOf.set(backendId, d.poolId);
    const byAgent = getOrCreate(this.reports, backendId, () => new Map());
    const prev = byAgent.get(agentId);
    if (!prev || prev.at <= end) {
      byAgent.set(agentId, {
        poolId: d.poolId,
        status: d.status,
        at: end,
        seen: now,
        activeConnections: d.activeConnections,
        stickySessions: d.stickySessions ?? 0,
      });
    }
  }

  /** Backends this console has seen traffic for, in a pool. */
  knownBackends(poolId: string): string[] {
    return [...this.poolOf].filter(([, p]) => p === poolId).map(([b]) => b);
  }

  /**
   * The most severe of the agents' fresh reports; "unknown" without any. With
   * `poolId`, only reports of the backend as a member of that pool count (a
   * backend just moved away is not reported there any more).
   */
  statusOf(backendId: string, poolId?: string): BackendStatus {
    const seenAfter = this.now() - STATUS_FRESH_MS;
    const fresh = [...(this.reports.get(backendId)?.values() ?? [])].filter(
      (s) => s.seen >= seenAfter && (poolId === undefined || s.poolId === poolId),
    );
    for (const status of STATUS_ORDER) if (fresh.some((s) => s.status === status)) return status;
    return "unknown";
  }

  /**
   * Latest gauges of a backend, summed over the agents that reported it within
   * GAUGE_FRESH_MS (agents report a gauge when it changes and in every keyframe).
   */
  gauges(backendId: string, poolId?: string): { activeConnections: number; stickySessions: number } {
    const seenAfter = this.now() - GAUGE_FRESH_MS;
    let activeConnections = 0;
    let stickySessions = 0;
    for (const s of this.reports.get(backendId)?.values() ?? []) {
      if (s.seen < seenAfter || (poolId !== undefined && s.poolId !== poolId)) continue;
      activeConnections += s.activeConnections;
      stickySessions += s.stickySessions;
    }
    return { activeConnections, stickySessions };
  }
}
