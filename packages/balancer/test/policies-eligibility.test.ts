import { POLICIES } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import type { BackendView } from "../src/types";
import { backend, keys, seededRng } from "./backends";

const optionsFor = (name: string, algorithm: "ring" | "maglev"): Record<string, unknown> =>
  name === "consistent_hash" ? { key: "client_ip", algorithm } : {};

type Variant = [string, "ring" | "maglev"];
const variants = POLICIES.flatMap((name): Variant[] =>
  name === "consistent_hash"
    ? [
        [name, "ring"],
        [name, "maglev"],
      ]
    : [[name, "ring"]],
);

const ineligible = [
  backend("draining", { state: "draining", weight: 50 }),
  backend("disabled", { state: "disabled", weight: 50 }),
  backend("unhealthy", { healthy: false, weight: 50 }),
  backend("ejected", { ejected: true, weight: 50 }),
];

function run(name: string, algorithm: "ring" | "maglev", backends: readonly BackendView[], n = 400) {
  const policy = createPolicy(name, { rng: seededRng(7), options: optionsFor(name, algorithm) });
  const ks = keys(n);
  return ks.map((key, i) => policy.pick(i % 5 === 0 ? { backends } : { backends, key })?.id);
}

describe.each(variants)("%s (%s) eligibility", (name, algorithm) => {
  it("never picks draining, disabled, unhealthy or ejected backends", () => {
    const backends = [...ineligible, backend("a", { weight: 2 }), backend("b", { weight: 1, inFlight: 1 })];
    const seen = new Set(run(name, algorithm, backends));
    for (const id of seen) expect(["a", "b"]).toContain(id);
  });

  it("keeps backups idle while a primary is eligible", () => {
    const backends = [backend("bk", { backup: true, weight: 100 }), ...ineligible, backend("p")];
    expect(new Set(run(name, algorithm, backends))).toEqual(new Set(["p"]));
  });

  it("uses eligible backups when no primary is", () => {
    const backends = [
      ...ineligible,
      backend("bk1", { backup: true }),
      backend("bk2", { backup: true, ejected: true }),
      backend("bk3", { backup: true, healthy: false }),
    ];
    expect(new Set(run(name, algorithm, backends))).toEqual(new Set(["bk1"]));
  });

  it("returns undefined when nothing is eligible", () => {
    expect(run(name, algorithm, ineligible, 10).every((id) => id === undefined)).toBe(true);
    expect(run(name, algorithm, [], 10).every((id) => id === undefined)).toBe(true);
  });
});
