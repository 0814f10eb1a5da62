import { describe, expect, it } from "vitest";
import { ENGINE_FEATURES, ENGINES } from "../src/engine-support";
import { isPolicy, POLICIES, POLICY_FACTS, policySchema } from "../src/policies";
import { snapshotSchema } from "../src/snapshot";

const snapshotWith = (policy: string, policyOptions: Record<string, unknown>) => ({
  version: 1,
  hash: "0".repeat(64),
  clusterId: "c",
  createdAt: "2026-01-01T00:00:00.000Z",
  listeners: [],
  pools: [
    {
      id: "p",
      name: "p",
      policy,
      policyOptions,
      healthCheck: {},
      persistence: {},
      backends: [],
    },
  ],
});

describe("the policy table", () => {
  it("is what the snapshot's policy enum accepts, nothing else", () => {
    expect(policySchema.options).toEqual(POLICIES);
    for (const p of POLICIES) expect(isPolicy(p)).toBe(true);
    expect(policySchema.safeParse("fastest_guess").success).toBe(false);
    expect(isPolicy("toString")).toBe(false);
  });

  it("gives every policy a label, a one-line description and consistent kind flags", () => {
    for (const p of POLICIES) {
      const f = POLICY_FACTS[p];
      expect(f.label).toMatch(/^\S.*\S$/);
      expect(f.description).not.toMatch(/\n/);
      // A hashing policy maps a key onto weighted backends (the balancer's weighted rendezvous, ring or Maglev).
      if (f.hashing) expect(f.weighted).toBe(true);
    }
    expect(new Set(POLICIES.map((p) => POLICY_FACTS[p].label)).size).toBe(POLICIES.length);
  });

  it("has exactly one row per policy in the engine capability table, each supported by the builtin engine", () => {
    const rows = ENGINE_FEATURES.filter((f) => f.key.startsWith("policy:"));
    expect(rows.map((r) => r.key.slice("policy:".length))).toEqual(POLICIES);
    for (const r of rows) {
      expect(r.support.builtin.supported).toBe(true);
      for (const e of ENGINES) expect(r.support[e]).toBeDefined();
    }
  });

  it("checks a pool's policyOptions with its own policy's schema", () => {
    expect(
      snapshotSchema.safeParse(snapshotWith("consistent_hash", { key: "header" })).error?.issues,
    ).toEqual([expect.objectContaining({ path: ["pools", 0, "policyOptions", "keyName"] })]);
    expect(snapshotSchema.safeParse(snapshotWith("consistent_hash", { key: "path" })).success).toBe(true);
    // Policies without options ignore what they are given, as agents always have.
    for (const p of POLICIES.filter((p) => p !== "consistent_hash")) {
      expect(snapshotSchema.safeParse(snapshotWith(p, { key: "header", junk: [1] })).success).toBe(true);
    }
  });
});
