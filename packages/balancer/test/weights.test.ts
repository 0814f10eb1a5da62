import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import type { BackendView } from "../src/types";
import { backend, keys, picks, seededRng, shares } from "./backends";

const weighted = [
  backend("a", { weight: 1 }),
  backend("b", { weight: 2 }),
  backend("c", { weight: 3 }),
  backend("d", { weight: 4 }),
];
const total = 10;

function expectShares(ids: (string | undefined)[], backends: readonly BackendView[], tolerance: number) {
  const got = shares(ids);
  const sum = backends.reduce((s, b) => s + (b.effectiveWeight ?? b.weight), 0);
  for (const b of backends) {
    expect(Math.abs((got.get(b.id) ?? 0) - (b.effectiveWeight ?? b.weight) / sum)).toBeLessThanOrEqual(
      tolerance,
    );
  }
}

describe("long-run shares follow weights 1:2:3:4", () => {
  it("weighted_round_robin: exact over whole cycles (±0)", () => {
    const p = createPolicy("weighted_round_robin", { rng: seededRng(1) });
    expectShares(
      picks(total * 1000, () => p.pick({ backends: weighted })),
      weighted,
      0,
    );
  });

  it("weighted_random: ±1% absolute over 100k picks (seeded)", () => {
    const p = createPolicy("weighted_random", { rng: seededRng(2) });
    expectShares(
      picks(100_000, () => p.pick({ backends: weighted })),
      weighted,
      0.01,
    );
  });

  it("source_ip_hash: ±2% absolute over 100k client IPs", () => {
    const p = createPolicy("source_ip_hash", { rng: seededRng(3) });
    expectShares(
      keys(100_000).map((key) => p.pick({ backends: weighted, key })?.id),
      weighted,
      0.02,
    );
  });

  it.each(["ring", "maglev"])("consistent_hash (%s): ±2% absolute over 100k keys", (algorithm) => {
    const p = createPolicy("consistent_hash", { rng: seededRng(4), options: { algorithm } });
    expectShares(
      keys(100_000).map((key) => p.pick({ backends: weighted, key })?.id),
      weighted,
      0.02,
    );
  });

  it("least_connections, power_of_two: an idle pool splits by weight (±1.5% over 50k picks)", () => {
    for (const name of ["least_connections", "power_of_two"]) {
      const p = createPolicy(name, { rng: seededRng(5) });
      expectShares(
        picks(50_000, () => p.pick({ backends: weighted })),
        weighted,
        0.015,
      );
    }
  });

  it("weighted policies use effectiveWeight over weight and never pick weight 0", () => {
    const bs = [
      backend("ramping", { weight: 9, effectiveWeight: 1 }),
      backend("full", { weight: 1 }),
      backend("zero", { weight: 0 }),
    ];
    for (const name of ["weighted_round_robin", "weighted_random", "least_connections", "power_of_two"]) {
      const p = createPolicy(name, { rng: seededRng(6) });
      const ids = picks(20_000, () => p.pick({ backends: bs }));
      expect(ids).not.toContain("zero");
      expectShares(ids, bs.slice(0, 2), 0.02);
    }
    for (const name of ["source_ip_hash", "consistent_hash"]) {
      const p = createPolicy(name, { rng: seededRng(6) });
      const ids = keys(20_000).map((key) => p.pick({ backends: bs, key })?.id);
      expect(ids).not.toContain("zero");
      expectShares(ids, bs.slice(0, 2), 0.02);
    }
  });

  it("round_robin, random and first_available ignore weights", () => {
    const rr = createPolicy("round_robin", { rng: seededRng(1) });
    expect(picks(4, () => rr.pick({ backends: weighted }))).toEqual(["a", "b", "c", "d"]);
    const rnd = createPolicy("random", { rng: seededRng(1) });
    expectShares(
      picks(40_000, () => rnd.pick({ backends: weighted })),
      weighted.map((b) => ({ ...b, weight: 1 })),
      0.01,
    );
  });
});
