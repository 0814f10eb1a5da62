import { HISTOGRAM_BUCKET_COUNT } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { FIELD } from "./aggregate";
import { RING, SEAL_AFTER_S, SecondRing } from "./second-ring";

/** Puts `requests` and one latency sample (bucket `bucket`) into a slot. */
function fill(ring: SecondRing, key: string, sec: number, requests: number, bucket = 3): void {
  const slot = ring.slotFor(key, sec);
  if (!slot) throw new Error(`no slot for ${sec}`);
  slot.agg.c[FIELD.requests]! += requests;
  slot.agg.c[FIELD.latencyCount]! += 1;
  slot.agg.c[FIELD.latencySum]! += 5;
  slot.agg.hist ??= new Float64Array(HISTOGRAM_BUCKET_COUNT);
  slot.agg.hist[bucket]! += 1;
}

describe("the 1-second ring", () => {
  const t0 = 1_800_000_000;

  it("adds to the slot of its second, recycles a slot for a newer second and refuses an older one", () => {
    const ring = new SecondRing(t0);
    fill(ring, "a", t0, 2);
    fill(ring, "a", t0, 3);
    expect(ring.slotAt("a", t0)?.agg.c[FIELD.requests]).toBe(5);
    // The same index one ring later: the newer second takes the slot over.
    fill(ring, "a", t0 + RING, 7);
    expect(ring.slotAt("a", t0)).toBeUndefined();
    expect(ring.slotAt("a", t0 + RING)?.agg.c[FIELD.requests]).toBe(7);
    // A late point for the old second must not overwrite the newer one.
    expect(ring.slotFor("a", t0)).toBeUndefined();
    expect(ring.slotAt("a", t0 + RING)?.agg.c[FIELD.requests]).toBe(7);
    expect(ring.slotAt("b", t0)).toBeUndefined();
  });

  it("seals seconds older than SEAL_AFTER_S to quantiles and forgets series idle for a whole ring", () => {
    const ring = new SecondRing(t0);
    fill(ring, "old", t0, 1);
    fill(ring, "kept", t0, 1);
    expect(ring.seal(t0)).toBe(false);
    expect(ring.seal(t0 + SEAL_AFTER_S - 1)).toBe(true);
    expect(ring.slotAt("old", t0)?.q).toBeNull();
    expect(ring.slotAt("old", t0)?.agg.hist).not.toBeNull();

    expect(ring.seal(t0 + SEAL_AFTER_S)).toBe(true);
    const sealed = ring.slotAt("old", t0)!;
    expect(sealed.agg.hist).toBeNull();
    expect(sealed.q?.[0]).toEqual(expect.any(Number));
    expect(sealed.agg.c[FIELD.requests]).toBe(1);
    expect(ring.size).toBe(2);

    // "kept" reports again later; "old" reports nothing for more than a ring past the sealed edge.
    const later = t0 + RING + SEAL_AFTER_S + 1;
    fill(ring, "kept", later - 10, 1);
    expect(ring.seal(later)).toBe(true);
    expect(ring.size).toBe(1);
    expect(ring.slotAt("old", t0)).toBeUndefined();
    expect(ring.slotAt("kept", later - 10)?.agg.c[FIELD.requests]).toBe(1);
  });
});
