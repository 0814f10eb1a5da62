import type { PrismaClient } from "@fulcrum/db";
import {
  type Agg,
  FIELD as F,
  mergeAgg,
  newAgg,
  type Range,
  type Scope,
  type SeriesPoint,
  toPoint,
} from "./aggregate";
import { getOrCreate } from "./get-or-create";
import { completeSecAt } from "./live-seconds";
import type { MinuteFlush } from "./minute-flush";
import { readRollups, reportedMinutes } from "./rollups";
import type { SecondRing } from "./second-ring";
import { seriesKey } from "./series-key";

/**
 * Reading the series back as graph points: one second from the ring, a range
 * of seconds from the ring (5m, 15m), or minutes from the rollups plus the
 * minutes not written yet (1h, 24h, 7d). Gaps stay gaps: a step no agent of
 * the cluster reported is left out, not drawn as zero.
 */

const MINUTE = 60_000;

export const RANGE_SPEC: Record<Range, { stepMs: number; steps: number }> = {
  "5m": { stepMs: 1000, steps: 300 },
  "15m": { stepMs: 1000, steps: 900 },
  "1h": { stepMs: MINUTE, steps: 60 },
  "24h": { stepMs: MINUTE, steps: 1440 },
  "7d": { stepMs: 10 * MINUTE, steps: 1008 },
};

export interface SeriesQueriesParts {
  ring: SecondRing;
  minutes: MinuteFlush;
  prisma: PrismaClient;
  now: () => number;
}

export class SeriesQueries {
  constructor(private readonly parts: SeriesQueriesParts) {}

  /** The 1-second point of a series for `sec`, or undefined when no agent reported that second. */
  pointAt(clusterId: string, scope: Scope, id: string, sec: number): SeriesPoint | undefined {
    const { ring } = this.parts;
    const cluster = ring.slotAt(seriesKey(clusterId, "cluster", ""), sec);
    if (!cluster) return undefined;
    const slot = scope === "cluster" ? cluster : ring.slotAt(seriesKey(clusterId, scope, id), sec);
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
      const end = completeSecAt(this.parts.now());
      for (let sec = end - steps + 1; sec <= end; sec++) {
        for (const id of ids) {
          const p = this.pointAt(clusterId, scope, id, sec);
          if (p) out.get(id)!.push(p);
        }
      }
      return { stepMs, series: out };
    }
    const { prisma } = this.parts;
    const now = this.parts.now();
    const to = Math.floor(now / stepMs) * stepMs + stepMs;
    const from = to - steps * stepMs;
    const [rows, present] = await Promise.all([
      readRollups(prisma, clusterId, scope, ids, from, to),
      scope === "cluster" ? Promise.resolve(null) : reportedMinutes(prisma, clusterId, from, to),
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
    for (const [minute, entries] of this.parts.minutes.unwritten()) {
      if (minute < from || minute >= to) continue;
      if (entries.has(seriesKey(clusterId, "cluster", "")))
        presentSteps.add(Math.floor(minute / stepMs) * stepMs);
      for (const id of ids) {
        const e = entries.get(seriesKey(clusterId, scope, id));
        if (e) add(id, minute, e.agg);
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

  /** Requests per second of a series over the last `seconds` complete seconds (0 without reports). */
  recentRps(clusterId: string, scope: Scope, id: string, seconds = 10): number {
    const key = seriesKey(clusterId, scope, id);
    const end = completeSecAt(this.parts.now());
    let requests = 0;
    for (let sec = end - seconds + 1; sec <= end; sec++) {
      requests += this.parts.ring.slotAt(key, sec)?.agg.c[F.requests] ?? 0;
    }
    return requests / seconds;
  }
}
