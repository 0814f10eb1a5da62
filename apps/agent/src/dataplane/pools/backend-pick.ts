import type { RequestFacts } from "../exchange";
import { countStatus } from "../stats/counters";
import type { BackendRuntime } from "./backend-runtime";
import type { PoolRuntime } from "./pool-runtime";

/**
 * Up to `max` distinct backends chosen by the pool's own policy, with the same
 * eligibility as proxied traffic (health checks, drain, disabled, ejection,
 * backups, weights and slow start), for answers that hold no connection: DNS
 * answers and HTTP redirects. No lease is taken, so nothing counts as in
 * flight, and no latency or outlier outcome is recorded: the client talks to
 * the backend directly and we learn nothing about how that went.
 * `skip` leaves backends out before the policy sees them (e.g. IPv6 backends for an A query).
 */
export function pickBackends(
  pool: PoolRuntime,
  facts: RequestFacts,
  max: number,
  skip?: (b: BackendRuntime) => boolean,
): BackendRuntime[] {
  const out: BackendRuntime[] = [];
  const exclude = new Set<string>();
  if (skip) {
    for (const b of pool.backends) if (skip(b)) exclude.add(b.key);
  }
  while (out.length < max) {
    const r = pool.select(facts, exclude.size > 0 ? exclude : undefined);
    // FULL (all at their connection limit) or NONE: nothing more to give.
    if (typeof r !== "object") break;
    out.push(r);
    exclude.add(r.key);
  }
  // Source-IP persistence remembers the first choice, as a lease would.
  const first = out[0];
  if (first && pool.settings.persistence.type === "source_ip") pool.pinClient(facts.clientIp, first.id);
  return out;
}

/**
 * Counts one answer on the backend's counters, which the live graphs show per
 * backend: an attempt (its requests/s) with a status class.
 */
export function countPick(b: BackendRuntime, status: number): void {
  b.shared.counters.attempts++;
  countStatus(b.shared.counters, status);
}
