import {
  CONSISTENT_HASH_ALGORITHMS,
  CONSISTENT_HASH_KEYS,
  type ConsistentHashOptions,
  consistentHash,
  parseConsistentHashOptions,
} from "./policies/consistent-hash";
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

/** Same names, same order as @fulcrum/protocol's POLICIES. */
export const POLICY_NAMES = [
  "round_robin",
  "weighted_round_robin",
  "random",
  "weighted_random",
  "least_connections",
  "power_of_two",
  "least_response_time",
  "source_ip_hash",
  "consistent_hash",
  "first_available",
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Policies without options take an empty object. */
export type NoOptions = Readonly<Record<string, never>>;

/** The (zod-free) options each policy accepts in a pool's policyOptions. */
export interface PolicyOptionsByName {
  round_robin: NoOptions;
  weighted_round_robin: NoOptions;
  random: NoOptions;
  weighted_random: NoOptions;
  least_connections: NoOptions;
  power_of_two: NoOptions;
  least_response_time: NoOptions;
  source_ip_hash: NoOptions;
  consistent_hash: ConsistentHashOptions;
  first_available: NoOptions;
}

const factories: Readonly<Record<PolicyName, PolicyFactory>> = {
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

/** Validates and defaults a pool's policyOptions without building a policy (for the console). */
export function parsePolicyOptions<N extends PolicyName>(
  name: N,
  raw?: Readonly<Record<string, unknown>>,
): PolicyOptionsByName[N];
export function parsePolicyOptions(name: string, raw?: Readonly<Record<string, unknown>>): unknown {
  if (!isPolicyImplemented(name)) throw new UnknownPolicyError(name);
  if (name === "consistent_hash") return parseConsistentHashOptions(raw);
  return {};
}

export interface PolicyOptionDescription {
  readonly name: string;
  readonly type: "enum" | "string";
  readonly values?: readonly string[];
  readonly default?: string;
  /** Required only when another option has one of these values, e.g. keyName for key=header. */
  readonly requiredWhen?: { readonly option: string; readonly values: readonly string[] };
  readonly description: string;
}

export interface PolicyDescription {
  readonly name: PolicyName;
  readonly description: string;
  /** Honors backend weights (and slow-start effective weights). */
  readonly weighted: boolean;
  /** Needs PickContext.key (falls back to weighted random without one). */
  readonly usesKey: boolean;
  readonly options: readonly PolicyOptionDescription[];
}

const DESCRIPTIONS: readonly PolicyDescription[] = [
  {
    name: "round_robin",
    description: "Each eligible backend in turn; weights ignored.",
    weighted: false,
    usesKey: false,
    options: [],
  },
  {
    name: "weighted_round_robin",
    description: "Smooth weighted round robin (nginx): turns in proportion to weight, interleaved.",
    weighted: true,
    usesKey: false,
    options: [],
  },
  {
    name: "random",
    description: "Uniformly random eligible backend; weights ignored.",
    weighted: false,
    usesKey: false,
    options: [],
  },
  {
    name: "weighted_random",
    description: "Random backend with probability proportional to weight.",
    weighted: true,
    usesKey: false,
    options: [],
  },
  {
    name: "least_connections",
    description: "Fewest in-flight requests per unit of weight; ties split randomly by weight.",
    weighted: true,
    usesKey: false,
    options: [],
  },
  {
    name: "power_of_two",
    description: "Two random backends (by weight); the one with fewer in-flight requests per weight wins.",
    weighted: true,
    usesKey: false,
    options: [],
  },
  {
    name: "least_response_time",
    description:
      "Lowest average latency × (in-flight + 1) per weight; new backends are tried optimistically.",
    weighted: true,
    usesKey: false,
    options: [],
  },
  {
    name: "source_ip_hash",
    description:
      "Same client IP, same backend (weighted rendezvous hashing); few clients move when backends change.",
    weighted: true,
    usesKey: true,
    options: [],
  },
  {
    name: "consistent_hash",
    description:
      "Same key (client IP, header, cookie or path), same backend; ring or Maglev, few keys move when backends change.",
    weighted: true,
    usesKey: true,
    options: [
      {
        name: "key",
        type: "enum",
        values: CONSISTENT_HASH_KEYS,
        default: "client_ip",
        description: "What to hash.",
      },
      {
        name: "keyName",
        type: "string",
        requiredWhen: { option: "key", values: ["header", "cookie"] },
        description: "Header or cookie name to hash.",
      },
      {
        name: "algorithm",
        type: "enum",
        values: CONSISTENT_HASH_ALGORITHMS,
        default: "ring",
        description:
          "ring: virtual nodes ∝ weight, least key movement; maglev: 65537-slot table, O(1) lookup, most even spread.",
      },
    ],
  },
  {
    name: "first_available",
    description:
      "Fill backends in order up to their connection limit, then spill to the next; weights ignored.",
    weighted: false,
    usesKey: false,
    options: [],
  },
];

/** Name, one-line description and options of every policy, for the console's forms. */
export function describePolicies(): readonly PolicyDescription[] {
  return DESCRIPTIONS;
}
