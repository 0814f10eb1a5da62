import {
  type HealthCheck,
  healthCheckSchema,
  isPolicy,
  type Persistence,
  POLICY_FACTS,
  persistenceSchema,
} from "@fulcrum/protocol";

/** Whether setting a backend's weight changes anything in a pool of this policy (the protocol's table says). */
export function policyIgnoresWeight(policy: string): boolean {
  return isPolicy(policy) && !POLICY_FACTS[policy].weighted;
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
  return isPolicy(policy) ? POLICY_FACTS[policy].label : policy;
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
  const what =
    hc.type === "http"
      ? `HTTP ${hc.method} ${hc.path}`
      : hc.type === "grpc"
        ? `gRPC Health/Check ${hc.grpcService || "(whole server)"}`
        : "TCP connect";
  return `${what} every ${seconds(hc.intervalMs)} · rise ${hc.rise} / fall ${hc.fall}`;
}

export function describePersistence(p: Persistence): string {
  if (p.type === "none") return "No persistence";
  if (p.type === "cookie") return `Sticky cookie ${p.cookieName}`;
  return "Sticky by source IP";
}
