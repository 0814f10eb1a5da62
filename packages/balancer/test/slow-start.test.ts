import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import { effectiveWeight, inSlowStart } from "../src/slow-start";
import { backend, picks, shares } from "./backends";

describe("slow start", () => {
  it("ramps linearly from 10% to 100% of the weight over slowStartMs", () => {
    const since = 1_000;
    expect(effectiveWeight(10, since, since, 10_000)).toBeCloseTo(1);
    expect(effectiveWeight(10, since, since + 5_000, 10_000)).toBeCloseTo(5.5);
    expect(effectiveWeight(10, since, since + 9_999, 10_000)).toBeLessThan(10);
    expect(effectiveWeight(10, since, since + 10_000, 10_000)).toBe(10);
    expect(effectiveWeight(10, since, since + 50_000, 10_000)).toBe(10);
    let last = 0;
    for (let t = 0; t <= 10_000; t += 500) {
      const w = effectiveWeight(4, 0, t, 10_000);
      expect(w).toBeGreaterThan(last);
      last = w;
    }
  });

  it("is the plain weight when off or never away, never 0 for weight > 0, 0 for weight 0", () => {
    expect(effectiveWeight(3, 0, 1, 0)).toBe(3);
    expect(effectiveWeight(3, undefined, 1, 10_000)).toBe(3);
    expect(effectiveWeight(1, 0, 0, 3_600_000)).toBeGreaterThan(0);
    expect(effectiveWeight(1, 0, 0, 10_000, 0)).toBeGreaterThan(0);
    expect(effectiveWeight(0, 0, 5, 10_000)).toBe(0);
    // Clock going backwards: treated as "just came back".
    expect(effectiveWeight(10, 5_000, 1_000, 10_000)).toBeCloseTo(1);
    expect(inSlowStart(0, 9_999, 10_000)).toBe(true);
    expect(inSlowStart(0, 10_000, 10_000)).toBe(false);
    expect(inSlowStart(undefined, 0, 10_000)).toBe(false);
  });

  it("a ramping backend gets a ramping share from a weighted policy", () => {
    const p = createPolicy("weighted_round_robin", { rng: () => 0 });
    const shareAt = (t: number) => {
      const bs = [backend("old"), backend("new", { effectiveWeight: effectiveWeight(1, 0, t, 10_000) })];
      return shares(picks(1_000, () => p.pick({ backends: bs }))).get("new") ?? 0;
    };
    const early = shareAt(0);
    const mid = shareAt(5_000);
    const done = shareAt(10_000);
    expect(early).toBeCloseTo(0.1 / 1.1, 2);
    expect(mid).toBeCloseTo(0.55 / 1.55, 2);
    expect(done).toBeCloseTo(0.5, 2);
  });
});
