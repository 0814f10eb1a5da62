import { eligible } from "../eligible";
import type { BackendView } from "../types";

export interface StickyTableConfig {
  /** Entries idle longer than this expire (each hit refreshes it: sliding TTL). */
  readonly ttlMs: number;
  /** Beyond this, the least recently used entry is evicted. */
  readonly maxEntries: number;
}

interface Entry {
  backendId: string;
  expires: number;
}

/**
 * Session persistence table: key (client IP, cookie value) → backend id, with
 * a sliding TTL and LRU eviction (a Map keeps insertion order; a hit re-inserts
 * the key at the end). `now` is injected.
 *
 * lookup() returns the backend only while it is still eligible (see
 * eligible(): enabled, healthy, not ejected, and a backup only while no
 * primary serves); otherwise it drops the entry and returns undefined, and the
 * caller picks with the pool's policy and calls set().
 */
export class StickyTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly config: StickyTableConfig) {}

  get size(): number {
    return this.entries.size;
  }

  lookup<B extends BackendView>(key: string, backends: readonly B[], now: number): B | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (now >= e.expires) return undefined;
    const backend = eligible(backends).find((b) => b.id === e.backendId);
    if (!backend) return undefined;
    e.expires = now + this.config.ttlMs;
    this.entries.set(key, e);
    return backend;
  }

  /**
   * Pins `key` to `backendId` for `ttlMs` (the table's TTL unless given: an
   * entry adopted from another process keeps the expiry it has there).
   * Returns the backend the key was pinned to until now (undefined: none, or expired).
   */
  set(key: string, backendId: string, now: number, ttlMs = this.config.ttlMs): string | undefined {
    const old = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, { backendId, expires: now + ttlMs });
    while (this.entries.size > Math.max(0, this.config.maxEntries)) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return old !== undefined && now < old.expires ? old.backendId : undefined;
  }

  /** The backend `key` is pinned to now, without eligibility checks and without refreshing it. */
  peek(key: string, now: number): string | undefined {
    const e = this.entries.get(key);
    return e !== undefined && now < e.expires ? e.backendId : undefined;
  }

  /** Time left before `key` expires (0: absent or expired). */
  ttlLeft(key: string, now: number): number {
    const e = this.entries.get(key);
    return e !== undefined && now < e.expires ? e.expires - now : 0;
  }

  /** Live entries, least recently used first: key, backend id, time left. */
  *live(now: number): Generator<[key: string, backendId: string, ttlLeftMs: number]> {
    for (const [key, e] of this.entries) if (now < e.expires) yield [key, e.backendId, e.expires - now];
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Live (unexpired) entries per backend id: the sessions pinned to each backend now. */
  countByBackend(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) {
      if (now < e.expires) out.set(e.backendId, (out.get(e.backendId) ?? 0) + 1);
    }
    return out;
  }

  /** Drops expired entries (optional housekeeping; lookup() ignores them anyway). Returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (now >= e.expires) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }
}
