import { type Agg, newAgg, type Quantiles, quantilesOf } from "./aggregate";
import { getOrCreate } from "./get-or-create";

/**
 * The last 16 minutes of every series at 1-second resolution, in memory: one
 * ring of slots per series key, indexed by second, all agents merged into the
 * same slot. It exists on its own so the rules of a slot's life (recycled by a
 * newer second, sealed to quantiles after 30 s, the series forgotten once idle
 * for a whole ring) sit in one place: ingest writes slots, queries read them,
 * the store's tick seals them.
 */

/** Seconds kept at 1 s resolution (15 minutes plus a margin). */
export const RING = 960;
/** After this many seconds a slot keeps only its quantiles, not the whole histogram. */
export const SEAL_AFTER_S = 30;

export interface Slot {
  sec: number;
  agg: Agg;
  /** Set once sealed: the histogram is dropped and these quantiles kept. */
  q: Quantiles | null;
}

interface Ring {
  slots: Array<Slot | undefined>;
  lastSec: number;
}

const indexOf = (sec: number) => ((sec % RING) + RING) % RING;

export class SecondRing {
  private readonly rings = new Map<string, Ring>();
  /** Seconds up to this one are sealed. */
  private lastSealed: number;

  constructor(nowSec: number) {
    this.lastSealed = nowSec - SEAL_AFTER_S;
  }

  /** Series held in memory. */
  get size(): number {
    return this.rings.size;
  }

  /** The slot for `sec`, recycled when it holds an older second; undefined when it holds a newer one. */
  slotFor(key: string, sec: number): Slot | undefined {
    const ring = getOrCreate(this.rings, key, (): Ring => ({ slots: new Array(RING), lastSec: sec }));
    ring.lastSec = Math.max(ring.lastSec, sec);
    const i = indexOf(sec);
    const slot = ring.slots[i];
    if (slot && slot.sec === sec) return slot;
    if (slot && slot.sec > sec) return undefined;
    const fresh: Slot = { sec, agg: newAgg(), q: null };
    ring.slots[i] = fresh;
    return fresh;
  }

  /** The slot holding `sec` of a series, if any agent reported that second. */
  slotAt(key: string, sec: number): Slot | undefined {
    const slot = this.rings.get(key)?.slots[indexOf(sec)];
    return slot?.sec === sec ? slot : undefined;
  }

  /**
   * Seals the seconds up to `nowSec - SEAL_AFTER_S` not sealed yet (a late
   * point then adds to the counters, not to the latency) and forgets series
   * without a second in the whole ring. Returns false when nothing was due.
   */
  seal(nowSec: number): boolean {
    const sealTo = nowSec - SEAL_AFTER_S;
    if (sealTo <= this.lastSealed) return false;
    const from = Math.max(this.lastSealed + 1, sealTo - RING + 1);
    for (const [key, ring] of this.rings) {
      if (ring.lastSec < sealTo - RING) {
        this.rings.delete(key);
        continue;
      }
      for (let s = from; s <= sealTo; s++) {
        const slot = this.slotAt(key, s);
        if (slot && !slot.q) {
          slot.q = quantilesOf(slot.agg);
          slot.agg.hist = null;
        }
      }
    }
    this.lastSealed = sealTo;
    return true;
  }
}
