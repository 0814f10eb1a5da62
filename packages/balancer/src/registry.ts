import type { Policy as PolicyName } from "@fulcrum/protocol";
import { consistentHash } from "./policies/consistent-hash";
import { firstAvailable } from "./policies/first-available";
import { leastConnections } from "./policies/least-connections";
import { leastResponseTime } from "./policies/least-response-time";
import { powerOfTwo } from "./policies/power-of-two";
import { random } from "./policies/random";
import { roundRobin } from "./policies/round-robin";
import { sourceIpHash } from "./policies/source-ip-hash";
import { weightedRandom } from "./policies/weighted-random";
import { weightedRoundRobin } from "./policies/weighted-round-robin";
import type { Policy, PolicyFactory, PolicyOptions } from "./types";

/**
 * Policy name → implementation. The names and their facts (label, kind,
 * options schema) live in @fulcrum/protocol's policy table; keyed by its
 * Policy type, a name missing on either side does not compile.
 */
const factories: { readonly [P in PolicyName]: PolicyFactory } = {
  round_robin: roundRobin,
  weighted_round_robin: weightedRoundRobin,
  random,
  weighted_random: weightedRandom,
  least_connections: leastConnections,
  power_of_two: powerOfTwo,
  least_response_time: leastResponseTime,
  source_ip_hash: sourceIpHash,
  consistent_hash: consistentHash,
  first_available: firstAvailable,
};

export const IMPLEMENTED_POLICIES: readonly string[] = Object.keys(factories);

export function isPolicyImplemented(name: string): name is PolicyName {
  return Object.hasOwn(factories, name);
}

export class UnknownPolicyError extends Error {
  readonly code = "policy_not_implemented";
  constructor(readonly policy: string) {
    super(`load-balancing policy "${policy}" is not implemented (have: ${IMPLEMENTED_POLICIES.join(", ")})`);
    this.name = "UnknownPolicyError";
  }
}

/**
 * Throws UnknownPolicyError for an unknown name and PolicyOptionsError for
 * invalid options (unknown option keys are ignored).
 */
export function createPolicy(name: string, opts: PolicyOptions): Policy {
  if (!isPolicyImplemented(name)) throw new UnknownPolicyError(name);
  return factories[name](opts);
}
