import { POLICIES, POLICY_FACTS, type Policy } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { createPolicy } from "../src/registry";
import type { BackendView } from "../src/types";
import { backend, keys, seededRng } from "./backends";

/*
 * The protocol's policy table says which policies hash, honor weights or read
 * live load; the console's estimates and the HAProxy renderer act on those
 * flags. Here each flag is checked against what the implementation does.
 */

const N = 400;

function picks(name: Policy, backends: readonly BackendView[], keyOf: (i: number) => string | undefined) {
  const policy = createPolicy(name, { rng: seededRng(11), options: {} });
  return Array.from({ length: N }, (_, i) => {
    const key = keyOf(i);
    return policy.pick(key === undefined ? { backends } : { backends, key })?.id;
  });
}

const ks = keys(N);

describe.each(POLICIES)("the table's facts of %s", (name) => {
  const facts = POLICY_FACTS[name];

  it(`weighted: ${facts.weighted} (a weight-0 backend gets ${facts.weighted ? "nothing" : "requests"})`, () => {
    const got = picks(name, [backend("zero", { weight: 0 }), backend("one", { weight: 1 })], (i) => ks[i]);
    expect(got.includes("zero")).toBe(!facts.weighted);
  });

  it(`hashing: ${facts.hashing} (the same key ${facts.hashing ? "always" : "not always"} lands on one backend, keys spread)`, () => {
    const backends = ["a", "b", "c"].map((id) => backend(id));
    const repeated = picks(name, backends, (i) => ks[i % 20]);
    const stable = ks
      .slice(0, 20)
      .every((_, k) => new Set(repeated.filter((_, i) => i % 20 === k)).size === 1);
    const spread = new Set(repeated).size > 1;
    expect(stable && spread).toBe(facts.hashing);
  });

  it(`loadAware: ${facts.loadAware} (a backend at its connection cap ${facts.loadAware ? "is avoided" : "still gets its share"})`, () => {
    const full = backend("full", { inFlight: 10, maxConnections: 10, ewmaMs: 10 });
    const idle = backend("idle", { inFlight: 0, maxConnections: 10, ewmaMs: 10 });
    const got = picks(name, [full, idle], (i) => ks[i]);
    const toFull = got.filter((id) => id === "full").length / N;
    // Load-aware policies send at most a small share to the full backend; the others about half.
    expect(toFull < 0.3).toBe(facts.loadAware);
  });
});
