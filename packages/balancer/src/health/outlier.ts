export interface OutlierConfig {
  /** Consecutive failures (5xx or connect errors) that eject a backend. */
  readonly consecutiveFailures: number;
  /**
   * An ejection lasts baseEjectionMs × the backend's multiplier. The multiplier
   * grows by one per ejection and shrinks by one per baseEjectionMs the backend
   * spends back in the pool (Envoy's ejection multiplier).
   */
  readonly baseEjectionMs: number;
  /** No ejection lasts longer, and the multiplier never grows past what reaches it. */
  readonly maxEjectionMs: number;
  /** Never eject more than this share of the pool (floored; never all of it, so a pool of 1 never ejects). */
  readonly maxEjectedPercent: number;
}

export interface EjectionEvent {
  readonly id: string;
  /** How many times this backend has been ejected, this one included. */
  readonly ejections: number;
  /** This ejection lasts baseEjectionMs × multiplier (capped at maxEjectionMs). */
  readonly multiplier: number;
  readonly until: number;
}

interface Entry {
  failures: number;
  /** Ejections ever (reported, not used for durations). */
  ejections: number;
  /** Ejection multiplier as of `returnedAt` (decays from there while the backend stays in). */
  multiplier: number;
  /** End of the current ejection; undefined = not ejected. */
  until: number | undefined;
  /** When the last ejection ended; undefined = never ejected. */
  returnedAt: number | undefined;
}

/**
 * Passive outlier detection for one pool (Envoy-style consecutive errors).
 * Pure: every call takes `now` (ms, any monotonic origin).
 *
 * - observe(id, false) counts a failure; reaching consecutiveFailures ejects
 *   the backend for baseEjectionMs × multiplier, capped at maxEjectionMs,
 *   unless that would push the pool past maxEjectedPercent (the failure streak
 *   is kept, so it is ejected on its next failure once there is room).
 * - The multiplier: each ejection adds one; each whole baseEjectionMs spent
 *   back in the pool since the last ejection ended takes one off (not below
 *   0). It never exceeds ceil(maxEjectionMs / baseEjectionMs), so a backend
 *   that flaps forever is out for maxEjectionMs at most each time, and a few
 *   healthy intervals bring it back to short ejections: a backend that fails
 *   now and then is not shut out for longer and longer.
 * - observe(id, true) resets the streak.
 * - Results for an ejected backend (requests still in flight) are ignored.
 * - An ejection ends by itself once `now` passes `until`; the backend comes
 *   back with a clean streak.
 */
export class OutlierDetector {
  private readonly entries = new Map<string, Entry>();
  private poolSize = 0;

  constructor(
    private readonly config: OutlierConfig,
    backendIds: Iterable<string> = [],
  ) {
    this.setBackends(backendIds);
  }

  /** Declares the pool's backends: new ones start clean, removed ones are forgotten. */
  setBackends(ids: Iterable<string>): void {
    const live = new Set(ids);
    for (const id of this.entries.keys()) if (!live.has(id)) this.entries.delete(id);
    for (const id of live) if (!this.entries.has(id)) this.entries.set(id, fresh());
    this.poolSize = live.size;
  }

  /** Feeds one request result; returns the ejection it caused, if any. */
  observe(id: string, success: boolean, now: number): EjectionEvent | null {
    const e = this.entries.get(id);
    if (!e) return null;
    if (this.settle(e, now)) return null;
    if (success) {
      e.failures = 0;
      return null;
    }
    e.failures++;
    if (e.failures < this.config.consecutiveFailures) return null;
    if (this.ejectedCount(now) + 1 > this.maxEjected()) return null;
    e.multiplier = Math.min(this.decayed(e, now) + 1, this.maxMultiplier());
    e.ejections++;
    const duration = Math.min(this.config.baseEjectionMs * e.multiplier, this.config.maxEjectionMs);
    e.until = now + Math.max(1, duration);
    e.failures = 0;
    return { id, ejections: e.ejections, multiplier: e.multiplier, until: e.until };
  }

  /** What BackendView.ejected should say. */
  isEjected(id: string, now: number): boolean {
    const e = this.entries.get(id);
    return e !== undefined && this.settle(e, now);
  }

  /** Ids ejected at `now`. */
  ejected(now: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.entries) if (this.settle(e, now)) out.push(id);
    return out;
  }

  /** Times the backend has been ejected. */
  ejections(id: string): number {
    return this.entries.get(id)?.ejections ?? 0;
  }

  /** The multiplier at `now`: the next ejection lasts base × (this + 1), capped. */
  multiplier(id: string, now: number): number {
    const e = this.entries.get(id);
    if (!e) return 0;
    return this.settle(e, now) ? e.multiplier : this.decayed(e, now);
  }

  /** The multiplier after the decay earned by time spent in the pool since the last return. */
  private decayed(e: Entry, now: number): number {
    if (e.returnedAt === undefined) return e.multiplier;
    const base = Math.max(1, this.config.baseEjectionMs);
    const intervals = Math.floor(Math.max(0, now - e.returnedAt) / base);
    return Math.max(0, e.multiplier - intervals);
  }

  /** Beyond this the duration is capped anyway; a larger multiplier would only delay the decay. */
  private maxMultiplier(): number {
    const base = Math.max(1, this.config.baseEjectionMs);
    return Math.max(1, Math.ceil(this.config.maxEjectionMs / base));
  }

  private maxEjected(): number {
    const pct = Math.min(100, Math.max(0, this.config.maxEjectedPercent));
    return Math.min(this.poolSize - 1, Math.floor((this.poolSize * pct) / 100));
  }

  private ejectedCount(now: number): number {
    let n = 0;
    for (const e of this.entries.values()) if (this.settle(e, now)) n++;
    return n;
  }

  /** True while ejected; ends an expired ejection. */
  private settle(e: Entry, now: number): boolean {
    if (e.until === undefined) return false;
    if (now < e.until) return true;
    e.returnedAt = e.until;
    e.until = undefined;
    e.failures = 0;
    return false;
  }
}

const fresh = (): Entry => ({
  failures: 0,
  ejections: 0,
  multiplier: 0,
  until: undefined,
  returnedAt: undefined,
});
