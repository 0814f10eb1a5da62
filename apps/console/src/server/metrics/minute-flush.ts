import type { PrismaClient } from "@fulcrum/db";
import type { Logger } from "../logger";
import { type Agg, mergeAgg, type Scope } from "./aggregate";
import { getOrCreate } from "./get-or-create";
import { type RollupRow, writeRollups } from "./rollups";

/**
 * The 1-minute aggregates not yet in `metric_rollups`, and their writing. Apart
 * from the ring because their life differs: every point adds to its minutes
 * here (the ring drops what it cannot hold), a minute leaves only once written,
 * and a failed write puts it back. Minutes being written stay readable, so a
 * 1h graph drawn mid-write does not lose its last minute.
 */

/** A minute is written this long after it ends, so late seconds make it into the same write. */
export const FLUSH_GRACE_MS = 5000;
const MINUTE = 60_000;

export interface PendingEntry {
  clusterId: string;
  scope: Scope;
  id: string;
  agg: Agg;
}

/** Series key → aggregate of one minute. */
export type MinuteEntries = Map<string, PendingEntry>;

export class MinuteFlush {
  /** Minute → series → aggregate, not yet written. */
  private readonly pending = new Map<number, MinuteEntries>();
  /** Being written right now; still read so nothing disappears mid-write. */
  private readonly flushing = new Map<number, MinuteEntries>();
  private running: Promise<void> | null = null;

  constructor(private readonly deps: { prisma: PrismaClient; log: Logger }) {}

  /** The unwritten series of the minute starting at `minute` (epoch ms), made on first use. */
  minute(minute: number): MinuteEntries {
    return getOrCreate(this.pending, minute, () => new Map());
  }

  /** Every minute not written yet, those being written included. */
  *unwritten(): Generator<[minute: number, entries: ReadonlyMap<string, PendingEntry>]> {
    yield* this.pending;
    yield* this.flushing;
  }

  /** Writes every pending minute that ended at least FLUSH_GRACE_MS before `until`; one write at a time. */
  async flush(until: number): Promise<void> {
    while (this.running) await this.running;
    const run = this.flushNow(until);
    this.running = run;
    try {
      await run;
    } finally {
      this.running = null;
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
      await writeRollups(this.deps.prisma, rows);
      this.flushing.clear();
    } catch (err) {
      this.deps.log.error("could not write metric rollups; will retry", { err });
      // Put them back, merged with anything that arrived meanwhile.
      for (const [minute, entries] of this.flushing) {
        const pend = this.minute(minute);
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
}
