import { describe, expect, it } from "vitest";
import { buildMaglev } from "../src/hashing/maglev";
import { buildRing } from "../src/hashing/ring";
import { createPolicy } from "../src/registry";
import type { BackendView } from "../src/types";
import { backend, keys, seededRng } from "./backends";

const variants: [string, Record<string, unknown>][] = [
  ["source_ip_hash", {}],
  ["consistent_hash", { algorithm: "ring" }],
  ["consistent_hash", { algorithm: "maglev" }],
];

const N = 10;
const ten = Array.from({ length: N }, (_, i) => backend(`10.1.0.${i}:8080`));
const ks = keys(20_000);

const mapping = (name: string, options: Record<string, unknown>, backends: readonly BackendView[]) => {
  const p = createPolicy(name, { rng: seededRng(1), options });
  return ks.map((key) => p.pick({ backends, key })?.id);
};

describe.each(variants)("%s %j", (name, options) => {
  it("maps a key to the same backend across new policy instances and backend order", () => {
    const first = mapping(name, options, ten);
    expect(mapping(name, options, ten)).toEqual(first);
    expect(mapping(name, options, [...ten].reverse())).toEqual(first);
    // Fresh objects with the same ids: identity plays no part.
    expect(
      mapping(
        name,
        options,
        ten.map((b) => ({ ...b, inFlight: 3 })),
      ),
    ).toEqual(first);
  });

  it(`removing 1 of ${N} backends remaps ≤ 1/N + 1% of keys and ≤ 1% of keys on survivors`, () => {
    const before = mapping(name, options, ten);
    const gone = ten[3]!.id;
    const after = mapping(
      name,
      options,
      ten.filter((b) => b.id !== gone),
    );
    let moved = 0;
    let survivorKeys = 0;
    let survivorMoved = 0;
    for (let i = 0; i < ks.length; i++) {
      if (before[i] !== after[i]) moved++;
      if (before[i] !== gone) {
        survivorKeys++;
        if (before[i] !== after[i]) survivorMoved++;
      }
    }
    expect(moved / ks.length).toBeLessThanOrEqual(1 / N + 0.01);
    expect(survivorMoved / survivorKeys).toBeLessThanOrEqual(0.01);
    expect(after).not.toContain(gone);
  });

  it("a backend leaving the eligible set (unhealthy) remaps the same way as removal, and returns its keys", () => {
    const before = mapping(name, options, ten);
    const sick = ten.map((b, i) => (i === 3 ? { ...b, healthy: false } : b));
    const removed = mapping(
      name,
      options,
      ten.filter((_, i) => i !== 3),
    );
    expect(mapping(name, options, sick)).toEqual(removed);
    expect(mapping(name, options, ten)).toEqual(before);
  });
});

describe("hash tables", () => {
  it("ring points are proportional to weight and sorted", () => {
    const ring = buildRing([
      { id: "a", weight: 1 },
      { id: "b", weight: 3 },
    ]);
    const owned = [0, 0];
    for (const o of ring.owners) owned[o]!++;
    expect(owned[1]).toBe(owned[0]! * 3);
    for (let i = 1; i < ring.hashes.length; i++)
      expect(ring.hashes[i]!).toBeGreaterThanOrEqual(ring.hashes[i - 1]!);
  });

  it("maglev slots follow weights within 0.1% and fill the whole (prime) table", () => {
    const table = buildMaglev([
      { id: "a", weight: 1 },
      { id: "b", weight: 2 },
      { id: "c", weight: 5 },
    ]);
    expect(table.length).toBe(65_537);
    const owned = [0, 0, 0];
    for (const o of table) owned[o]!++;
    expect(owned.reduce((a, b) => a + b)).toBe(65_537);
    [1, 2, 5].forEach((w, i) => {
      expect(Math.abs(owned[i]! / 65_537 - w / 8)).toBeLessThan(0.001);
    });
  });

  it("consistent_hash only rebuilds when ids or weights change, and slow-start weights are rounded", () => {
    const p = createPolicy("consistent_hash", { rng: seededRng(1), options: { algorithm: "maglev" } });
    const a = p.pick({ backends: ten, key: "k" });
    const ramp = ten.map((b, i) => (i === 0 ? { ...b, effectiveWeight: 0.5 } : b));
    const b = p.pick({ backends: ramp, key: "k" });
    const c = p.pick({
      backends: ramp.map((x, i) => (i === 0 ? { ...x, effectiveWeight: 0.501 } : x)),
      key: "k",
    });
    expect(a?.id).toBeDefined();
    expect(b?.id).toBe(c?.id);
  });
});
