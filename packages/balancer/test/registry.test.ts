import { describe, expect, it } from "vitest";
import { PolicyOptionsError } from "../src/options";
import {
  createPolicy,
  describePolicies,
  IMPLEMENTED_POLICIES,
  isPolicyImplemented,
  POLICY_NAMES,
  parsePolicyOptions,
} from "../src/registry";

describe("registry", () => {
  it("implements every policy name of the protocol", () => {
    expect(IMPLEMENTED_POLICIES).toEqual([...POLICY_NAMES]);
    for (const name of POLICY_NAMES) {
      expect(isPolicyImplemented(name)).toBe(true);
      expect(createPolicy(name, { rng: Math.random, options: {} })).toBeDefined();
    }
  });

  it("describes every policy once, with a one-line description", () => {
    const described = describePolicies();
    expect(described.map((d) => d.name)).toEqual([...POLICY_NAMES]);
    for (const d of described) expect(d.description).not.toMatch(/\n/);
    const ch = described.find((d) => d.name === "consistent_hash")!;
    expect(ch.options.map((o) => o.name)).toEqual(["key", "keyName", "algorithm"]);
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });

  it("defaults and validates consistent_hash options", () => {
    expect(parsePolicyOptions("consistent_hash", {})).toEqual({ key: "client_ip", algorithm: "ring" });
    expect(
      parsePolicyOptions("consistent_hash", { key: "header", keyName: "x-user", algorithm: "maglev" }),
    ).toEqual({
      key: "header",
      keyName: "x-user",
      algorithm: "maglev",
    });
    expect(() => parsePolicyOptions("consistent_hash", { key: "cookie" })).toThrow(PolicyOptionsError);
    expect(() =>
      createPolicy("consistent_hash", { rng: Math.random, options: { algorithm: "jump" } }),
    ).toThrow(/algorithm must be one of ring, maglev/);
    try {
      parsePolicyOptions("consistent_hash", { key: 3 });
    } catch (e) {
      expect((e as PolicyOptionsError).code).toBe("policy_options_invalid");
    }
    expect(parsePolicyOptions("round_robin", { ignored: true })).toEqual({});
  });
});
