import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import { backend, picks } from "./backends";

const rng = () => 0;

describe("round_robin", () => {
  it("alternates over enabled backends", () => {
    const policy = createPolicy("round_robin", { rng });
    const backends = [backend("a"), backend("b"), backend("c")];
    expect(picks(6, () => policy.pick({ backends }))).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("skips draining and disabled backends and ignores weights", () => {
    const policy = createPolicy("round_robin", { rng });
    const backends = [
      backend("a", { weight: 10 }),
      backend("b", { state: "draining" }),
      backend("c", { state: "disabled" }),
      backend("d"),
    ];
    expect(picks(4, () => policy.pick({ backends }))).toEqual(["a", "d", "a", "d"]);
  });

  it("uses backups only when no primary is eligible", () => {
    const policy = createPolicy("round_robin", { rng });
    const withPrimary = [backend("p"), backend("x", { backup: true }), backend("y", { backup: true })];
    expect(picks(3, () => policy.pick({ backends: withPrimary }))).toEqual(["p", "p", "p"]);
    const primaryDown = withPrimary.map((b) => (b.id === "p" ? { ...b, healthy: false } : b));
    expect(new Set(picks(4, () => policy.pick({ backends: primaryDown })))).toEqual(new Set(["x", "y"]));
  });

  it("returns undefined when no backend is eligible", () => {
    const policy = createPolicy("round_robin", { rng });
    expect(policy.pick({ backends: [backend("a", { state: "disabled" })] })).toBeUndefined();
    expect(policy.pick({ backends: [] })).toBeUndefined();
  });
});
