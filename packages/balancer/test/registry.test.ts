import { POLICIES } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { PolicyOptionsError } from "../src/options";
import { parseConsistentHashOptions } from "../src/policies/consistent-hash";
import { createPolicy, IMPLEMENTED_POLICIES, isPolicyImplemented } from "../src/registry";

describe("registry", () => {
  it("implements every policy of the protocol's table, and no other", () => {
    expect([...IMPLEMENTED_POLICIES].sort()).toEqual([...POLICIES].sort());
    for (const name of POLICIES) {
      expect(isPolicyImplemented(name)).toBe(true);
      expect(createPolicy(name, { rng: Math.random, options: {} })).toBeDefined();
    }
  });

  it("defaults and validates consistent_hash options", () => {
    expect(parseConsistentHashOptions({})).toEqual({ key: "client_ip", algorithm: "ring" });
    expect(parseConsistentHashOptions({ key: "header", keyName: "x-user", algorithm: "maglev" })).toEqual({
      key: "header",
      keyName: "x-user",
      algorithm: "maglev",
    });
    expect(() => parseConsistentHashOptions({ key: "cookie" })).toThrow(PolicyOptionsError);
    expect(() =>
      createPolicy("consistent_hash", { rng: Math.random, options: { algorithm: "jump" } }),
    ).toThrow(/algorithm must be one of ring, maglev/);
    expect(() => parseConsistentHashOptions({ key: 3 })).toThrow(
      expect.objectContaining({ code: "policy_options_invalid" }),
    );
    expect(createPolicy("round_robin", { rng: Math.random, options: { ignored: true } })).toBeDefined();
  });
});
