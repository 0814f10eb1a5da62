import { describe, expect, it } from "vitest";
import { createPolicy, isPolicyImplemented, UnknownPolicyError } from "../src/registry";
import { backend, picks } from "./backends";

describe("random", () => {
  it("maps the injected rng onto eligible backends", () => {
    const seq = [0, 0.49, 0.5, 0.99, 1];
    const policy = createPolicy("random", { rng: () => seq.shift() ?? 0 });
    const backends = [backend("a"), backend("off", { state: "disabled" }), backend("b")];
    expect(picks(5, () => policy.pick({ backends }))).toEqual(["a", "a", "b", "b", "b"]);
  });
});

describe("registry", () => {
  it("rejects policies that are not implemented, with a stable code", () => {
    expect(isPolicyImplemented("fastest_guess")).toBe(false);
    expect(() => createPolicy("fastest_guess", { rng: Math.random })).toThrow(UnknownPolicyError);
    const thrown = (() => {
      try {
        createPolicy("toString", { rng: Math.random });
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(UnknownPolicyError);
    expect((thrown as UnknownPolicyError).code).toBe("policy_not_implemented");
    expect(isPolicyImplemented("toString")).toBe(false);
  });
});
