export interface OutlierConfig {
  /** Consecutive failures (5xx or connect errors) that eject a backend. */
  readonly consecutiveFailures: number;
  /** First ejection lasts this long; the k-th lasts k times as long... */
  readonly baseEjectionMs: number;
  /** ...up to this cap. */
  readonly maxEjectionMs: number;
  /** Never eject more than this share of the pool (floored; never all of it, so a pool of 1 never ejects). */
  readonly maxEjectedPercent: number;
}

export interface EjectionEvent {
  readonly id: string;
  /** How many times this backend has been ejected, this one included. */
  readonly ejections: number;
  readonly until: number;
}

interface Entry {
  failures: number;
  ejections: number;
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
 *   the backend for baseEjectionMs × (times ejected), capped at maxEjectionMs,
 *   unless that would push the pool past maxEjectedPercent (the failure streak
 *   is kept, so it is ejected on its next failure once there is room).
 * - observe(id, true) resets the streak.
 * - Results for an ejected backend (requests still in flight) are ignored.
 * - An ejection ends by itself once `now` passes `until`; the backend comes
 *   back with a clean streak. A backend that has stayed in for maxEjectionMs
 *   since its last return has its ejection count forgiven (back to base).
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
    if (e.returnedAt !== undefined && now - e.returnedAt >= this.config.maxEjectionMs) e.ejections = 0;
    e.ejections++;
    const duration = Math.min(this.config.baseEjectionMs * e.ejections, this.config.maxEjectionMs);
    e.until = now + Math.max(1, duration);
    e.failures = 0;
    return { id, ejections: e.ejections, until: e.until };
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

  /** Times the backend has been ejected (what the next duration is based on). */
  ejections(id: string): number {
    return this.entries.get(id)?.ejections ?? 0;
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

const fresh = (): Entry => ({ failures: 0, ejections: 0, until: undefined, returnedAt: undefined });
