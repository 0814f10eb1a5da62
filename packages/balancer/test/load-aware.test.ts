import { describe, expect, it } from "vitest";
import { nextEwma } from "../src/policies/least-response-time";
import { createPolicy } from "../src/registry";
import { backend, picks, seededRng, shares } from "./backends";

describe("least_connections (weighted, LVS wlc; ties split by the rng in proportion to weight)", () => {
  it("picks the lowest inFlight / weight", () => {
    const p = createPolicy("least_connections", { rng: seededRng(1) });
    const bs = [backend("a", { inFlight: 5 }), backend("b", { inFlight: 2 }), backend("c", { inFlight: 9 })];
    expect(new Set(picks(50, () => p.pick({ backends: bs })))).toEqual(new Set(["b"]));
    // 4 in flight at weight 4 (1 per unit) beats 2 at weight 1.
    const weighted = [backend("light", { inFlight: 2 }), backend("heavy", { weight: 4, inFlight: 4 })];
    expect(p.pick({ backends: weighted })?.id).toBe("heavy");
  });

  it("spreads ties instead of always taking the first", () => {
    const p = createPolicy("least_connections", { rng: seededRng(2) });
    const bs = [backend("a", { inFlight: 1 }), backend("b"), backend("c")];
    const got = shares(picks(10_000, () => p.pick({ backends: bs })));
    expect(got.get("a")).toBeUndefined();
    expect(Math.abs(got.get("b")! - 0.5)).toBeLessThan(0.02);
  });

  it("follows live inFlight: a simulated pool stays balanced", () => {
    const p = createPolicy("least_connections", { rng: seededRng(3) });
    const live = [
      { ...backend("a"), inFlight: 0 },
      { ...backend("b"), inFlight: 0 },
      { ...backend("c"), inFlight: 0 },
    ];
    for (let i = 0; i < 30; i++) p.pick({ backends: live })!.inFlight++;
    expect(live.map((b) => b.inFlight)).toEqual([10, 10, 10]);
  });
});

describe("power_of_two", () => {
  it("with two candidates always takes the less loaded one", () => {
    const p = createPolicy("power_of_two", { rng: seededRng(4) });
    const bs = [backend("busy", { inFlight: 10 }), backend("idle", { inFlight: 1 })];
    expect(new Set(picks(100, () => p.pick({ backends: bs })))).toEqual(new Set(["idle"]));
  });

  it("never picks the most loaded of several, and favours the least loaded", () => {
    const p = createPolicy("power_of_two", { rng: seededRng(5) });
    const bs = [backend("a", { inFlight: 0 }), backend("b", { inFlight: 5 }), backend("c", { inFlight: 9 })];
    const got = shares(picks(30_000, () => p.pick({ backends: bs })));
    expect(got.get("c")).toBeUndefined();
    // a wins every pair it is in: 2 of 3 pairs.
    expect(Math.abs(got.get("a")! - 2 / 3)).toBeLessThan(0.02);
  });

  it("draws two distinct backends (a lone eligible backend still works)", () => {
    const p = createPolicy("power_of_two", { rng: () => 0 });
    expect(p.pick({ backends: [backend("only", { inFlight: 100 })] })?.id).toBe("only");
    const bs = [backend("a", { inFlight: 3 }), backend("b", { inFlight: 1 })];
    // rng 0 twice would draw "a" twice without the distinctness rule.
    expect(p.pick({ backends: bs })?.id).toBe("b");
  });
});

describe("least_response_time", () => {
  it("prefers the lower EWMA latency", () => {
    const p = createPolicy("least_response_time", { rng: seededRng(6) });
    const bs = [backend("slow", { ewmaMs: 80 }), backend("fast", { ewmaMs: 10 })];
    expect(new Set(picks(20, () => p.pick({ backends: bs })))).toEqual(new Set(["fast"]));
  });

  it("weighs latency by load: ewma × (inFlight + 1)", () => {
    const p = createPolicy("least_response_time", { rng: seededRng(6) });
    // fast: 10 × 9 = 90 > slow: 40 × 2 = 80
    const bs = [backend("slow", { ewmaMs: 40, inFlight: 1 }), backend("fast", { ewmaMs: 10, inFlight: 8 })];
    expect(p.pick({ backends: bs })?.id).toBe("slow");
  });

  it("tries a backend with no latency sample yet (scored as the best known)", () => {
    const p = createPolicy("least_response_time", { rng: seededRng(7) });
    const bs = [backend("known", { ewmaMs: 20 }), backend("new")];
    const got = shares(picks(2000, () => p.pick({ backends: bs })));
    expect(got.get("new")).toBeGreaterThan(0.4);
    // ...but not ahead of an idle known backend once it has requests of its own.
    const busyNew = [backend("known", { ewmaMs: 20 }), backend("new", { inFlight: 2 })];
    expect(p.pick({ backends: busyNew })?.id).toBe("known");
  });

  it("without any samples behaves like least connections", () => {
    const p = createPolicy("least_response_time", { rng: seededRng(8) });
    const bs = [backend("a", { inFlight: 3 }), backend("b", { inFlight: 1 })];
    expect(p.pick({ backends: bs })?.id).toBe("b");
  });

  it("nextEwma folds samples in", () => {
    expect(nextEwma(undefined, 50)).toBe(50);
    expect(nextEwma(50, 100, 0.5)).toBe(75);
  });
});

describe("first_available", () => {
  it("fills backends in order up to maxConnections, then spills over", () => {
    const p = createPolicy("first_available", { rng: seededRng(9) });
    const live = [
      { ...backend("a", { maxConnections: 2 }), inFlight: 0 },
      { ...backend("b", { maxConnections: 3, weight: 100 }), inFlight: 0 },
      { ...backend("c"), inFlight: 0 },
    ];
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      const b = p.pick({ backends: live })!;
      b.inFlight++;
      order.push(b.id);
    }
    expect(order).toEqual(["a", "a", "b", "b", "b", "c", "c", "c"]);
    live[0]!.inFlight--;
    expect(p.pick({ backends: live })?.id).toBe("a");
  });

  it("returns undefined when every eligible backend is at its cap", () => {
    const p = createPolicy("first_available", { rng: seededRng(9) });
    const bs = [
      backend("a", { maxConnections: 1, inFlight: 1 }),
      backend("b", { maxConnections: 2, inFlight: 2 }),
    ];
    expect(p.pick({ backends: bs })).toBeUndefined();
  });
});
