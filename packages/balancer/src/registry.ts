import { random } from "./random";
import { roundRobin } from "./round-robin";
import type { Policy, PolicyFactory, PolicyOptions } from "./types";
import { weightedRoundRobin } from "./weighted-round-robin";

/**
 * Keyed by the names in @fulcrum/protocol's POLICIES. Names missing here are
 * not implemented yet; the agent refuses (NACKs) snapshots that use them
 * rather than silently balancing differently from what the operator chose.
 */
const factories: Readonly<Record<string, PolicyFactory>> = {
  round_robin: roundRobin,
  weighted_round_robin: weightedRoundRobin,
  random,
};

export const IMPLEMENTED_POLICIES: readonly string[] = Object.keys(factories);

export function isPolicyImplemented(name: string): boolean {
  return Object.hasOwn(factories, name);
}

export class UnknownPolicyError extends Error {
  readonly code = "policy_not_implemented";
  constructor(readonly policy: string) {
    super(`load-balancing policy "${policy}" is not implemented (have: ${IMPLEMENTED_POLICIES.join(", ")})`);
    this.name = "UnknownPolicyError";
  }
}

export function createPolicy(name: string, opts: PolicyOptions): Policy {
  const factory = Object.hasOwn(factories, name) ? factories[name] : undefined;
  if (!factory) throw new UnknownPolicyError(name);
  return factory(opts);
}
