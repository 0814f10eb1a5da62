import { z } from "zod";
import { isToken } from "./grammar";

/*
 * The load-balancing policies, written once. The snapshot's policy enum, the
 * check of a pool's policyOptions, the console's labels and help, its traffic
 * estimate and the engines' renderers all read this table; the balancer maps
 * the same names to implementations (a name missing there is a compile error).
 */

/** An HTTP header name (RFC 9110 token). */
export const headerNameSchema = z
  .string()
  .max(128)
  .refine((v) => isToken(v), "A header name is a token: letters, digits and !#$%&'*+-.^_`|~ only.");

export const CONSISTENT_HASH_KEYS = ["client_ip", "header", "cookie", "path"] as const;
export const CONSISTENT_HASH_ALGORITHMS = ["ring", "maglev"] as const;

/** policyOptions of a consistent_hash pool. */
export const consistentHashOptionsSchema = z
  .object({
    key: z.enum(CONSISTENT_HASH_KEYS).default("client_ip"),
    /** A header name or a cookie name: a token either way. */
    keyName: z.string().trim().pipe(headerNameSchema).optional(),
    algorithm: z.enum(CONSISTENT_HASH_ALGORITHMS).default("ring"),
  })
  .refine((o) => (o.key !== "header" && o.key !== "cookie") || Boolean(o.keyName), {
    message: "Name the header or cookie to hash on.",
    path: ["keyName"],
  });
export type ConsistentHashOptions = z.infer<typeof consistentHashOptionsSchema>;

/** Options of a policy that takes none: any object passes (unknown keys are ignored, as before). */
const noOptionsSchema = z.object({});

export interface PolicyFacts {
  /** What people see in the console. */
  readonly label: string;
  /** One line of help for the console's pool form. */
  readonly description: string;
  /** Picks by hashing a key (client IP, header, cookie, path): the same key, the same backend. */
  readonly hashing: boolean;
  /** Honors backend weights (and slow-start effective weights); false: a weight changes nothing, 0 included. */
  readonly weighted: boolean;
  /** Reads live load (in-flight requests, latency, connection caps), not only weights. */
  readonly loadAware: boolean;
  /** The pool's policyOptions for this policy. */
  readonly options: z.ZodType;
}

const facts = {
  round_robin: {
    label: "Round robin",
    description: "Each backend in turn, ignoring weights.",
    hashing: false,
    weighted: false,
    loadAware: false,
    options: noOptionsSchema,
  },
  weighted_round_robin: {
    label: "Weighted round robin",
    description: "In turn, in proportion to each backend's weight.",
    hashing: false,
    weighted: true,
    loadAware: false,
    options: noOptionsSchema,
  },
  random: {
    label: "Random",
    description: "Any backend at random; no shared state between nodes.",
    hashing: false,
    weighted: false,
    loadAware: false,
    options: noOptionsSchema,
  },
  weighted_random: {
    label: "Weighted random",
    description: "At random, in proportion to weight.",
    hashing: false,
    weighted: true,
    loadAware: false,
    options: noOptionsSchema,
  },
  least_connections: {
    label: "Least connections",
    description: "The backend with the fewest open connections; good for long requests.",
    hashing: false,
    weighted: true,
    loadAware: true,
    options: noOptionsSchema,
  },
  power_of_two: {
    label: "Power of two choices",
    description: "Pick two at random and send to the less loaded one.",
    hashing: false,
    weighted: true,
    loadAware: true,
    options: noOptionsSchema,
  },
  least_response_time: {
    label: "Least response time",
    description: "The backend that has been answering fastest lately.",
    hashing: false,
    weighted: true,
    loadAware: true,
    options: noOptionsSchema,
  },
  source_ip_hash: {
    label: "Source IP hash",
    description: "The same client address always lands on the same backend.",
    hashing: true,
    weighted: true,
    loadAware: false,
    options: noOptionsSchema,
  },
  consistent_hash: {
    label: "Consistent hash",
    description: "A hash ring: few clients move when backends come and go.",
    hashing: true,
    weighted: true,
    loadAware: false,
    options: consistentHashOptionsSchema,
  },
  first_available: {
    label: "First available",
    description: "The first healthy backend in order; the others wait as spares.",
    hashing: false,
    weighted: false,
    loadAware: true,
    options: noOptionsSchema,
  },
} as const satisfies Record<string, PolicyFacts>;

export type Policy = keyof typeof facts;
/** Every policy's facts, by name (in the order the console lists them). */
export const POLICY_FACTS: { readonly [P in Policy]: (typeof facts)[P] & PolicyFacts } = facts;
/** The policy names, in the table's order. */
export const POLICIES = Object.keys(facts) as [Policy, ...Policy[]];
export const policySchema = z.enum(POLICIES);

export function isPolicy(name: string): name is Policy {
  return Object.hasOwn(facts, name);
}
