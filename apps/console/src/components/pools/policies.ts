import {
  type HealthCheck,
  healthCheckSchema,
  type Persistence,
  type Policy,
  persistenceSchema,
} from "@fulcrum/protocol";

export const POLICY_INFO: Record<Policy, { label: string; help: string }> = {
  round_robin: { label: "Round robin", help: "Each backend in turn, ignoring weights." },
  weighted_round_robin: {
    label: "Weighted round robin",
    help: "In turn, in proportion to each backend's weight.",
  },
  random: { label: "Random", help: "Any backend at random; no shared state between nodes." },
  weighted_random: { label: "Weighted random", help: "At random, in proportion to weight." },
  least_connections: {
    label: "Least connections",
    help: "The backend with the fewest open connections; good for long requests.",
  },
  power_of_two: {
    label: "Power of two choices",
    help: "Pick two at random and send to the less loaded one.",
  },
  least_response_time: {
    label: "Least response time",
    help: "The backend that has been answering fastest lately.",
  },
  source_ip_hash: {
    label: "Source IP hash",
    help: "The same client address always lands on the same backend.",
  },
  consistent_hash: {
    label: "Consistent hash",
    help: "A hash ring: few clients move when backends come and go.",
  },
  first_available: {
    label: "First available",
    help: "The first healthy backend in order; the others wait as spares.",
  },
};

/**
 * Policies that never read a backend's weight (packages/balancer: they pick among
 * eligible backends, not weighted ones): a weight changes nothing there, 0 included.
 */
const IGNORES_WEIGHT: ReadonlySet<string> = new Set<Policy>(["round_robin", "random", "first_available"]);

export function policyIgnoresWeight(policy: string): boolean {
  return IGNORES_WEIGHT.has(policy);
}

/** What to tell someone about to set a weight in a pool of this policy; null when weights work. */
export function weightNote(policy: string): string | null {
  if (!policyIgnoresWeight(policy)) return null;
  const how =
    policy === "first_available"
      ? "it always sends to the first healthy backend in order"
      : "every backend gets an equal share";
  return `${policyLabel(policy)} ignores weights: ${how}, and weight 0 does not stop traffic (drain the backend instead). Choose a weighted policy for the pool to use them.`;
}

export function policyLabel(policy: string): string {
  return POLICY_INFO[policy as Policy]?.label ?? policy;
}

export function readHealthCheck(value: unknown): HealthCheck {
  const parsed = healthCheckSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : healthCheckSchema.parse({});
}

export function readPersistence(value: unknown): Persistence {
  const parsed = persistenceSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : persistenceSchema.parse({});
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function describeHealthCheck(hc: HealthCheck): string {
  if (hc.type === "none") return "No health check";
  const what = hc.type === "http" ? `HTTP ${hc.method} ${hc.path}` : "TCP connect";
  return `${what} every ${seconds(hc.intervalMs)} · rise ${hc.rise} / fall ${hc.fall}`;
}

export function describePersistence(p: Persistence): string {
  if (p.type === "none") return "No persistence";
  if (p.type === "cookie") return `Sticky cookie ${p.cookieName}`;
  return "Sticky by source IP";
}
