import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import { backend, picks } from "./backends";

describe("weighted_round_robin (smooth)", () => {
  const backends = [backend("a", { weight: 5 }), backend("b", { weight: 1 }), backend("c", { weight: 1 })];

  it("interleaves 5,1,1 as a a b a c a a", () => {
    const policy = createPolicy("weighted_round_robin", { rng: () => 0 });
    expect(picks(7, () => policy.pick({ backends }))).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
  });

  it("gives each backend exactly its weight share over whole cycles", () => {
    const policy = createPolicy("weighted_round_robin", { rng: () => 0 });
    const weights = [backend("x", { weight: 3 }), backend("y", { weight: 2 }), backend("z", { weight: 7 })];
    const counts = new Map<string, number>();
    for (const id of picks(12 * 50, () => policy.pick({ backends: weights }))) {
      counts.set(id!, (counts.get(id!) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ x: 150, y: 100, z: 350 });
  });

  it("never picks weight 0 and skips ineligible backends", () => {
    const policy = createPolicy("weighted_round_robin", { rng: () => 0 });
    const bs = [backend("a", { weight: 0 }), backend("b", { weight: 2, state: "draining" }), backend("c")];
    expect(picks(3, () => policy.pick({ backends: bs }))).toEqual(["c", "c", "c"]);
  });
});
