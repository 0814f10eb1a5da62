import type { BackendView } from "./types";

/**
 * A backend can serve when it is enabled, healthy by active checks and not
 * ejected by passive outlier detection. Draining backends finish what they
 * have but take nothing new.
 */
export const canServe = (b: BackendView): boolean => b.state === "enabled" && b.healthy && b.ejected !== true;

/**
 * Backends that may take new requests, in their configured order. Backups
 * stand in only when no primary can serve, so a single serving primary keeps
 * backups idle.
 */
export function eligible<B extends BackendView>(backends: readonly B[]): B[] {
  const primaries = backends.filter((b) => !b.backup && canServe(b));
  if (primaries.length > 0) return primaries;
  return backends.filter((b) => b.backup && canServe(b));
}

/** The weight weighted policies use: the slow-start ramped weight when the data plane supplies one. */
export const weightOf = (b: BackendView): number => {
  const w = b.effectiveWeight ?? b.weight;
  return Number.isFinite(w) && w > 0 ? w : 0;
};

/** Eligible backends with a positive (effective) weight: the candidates of every weighted policy. */
export function weightedEligible<B extends BackendView>(backends: readonly B[]): B[] {
  return eligible(backends).filter((b) => weightOf(b) > 0);
}

/** Weighted random choice over candidates that all have weight > 0; undefined when empty. */
export function pickWeightedRandom<B extends BackendView>(
  candidates: readonly B[],
  rng: () => number,
): B | undefined {
  if (candidates.length <= 1) return candidates[0];
  let total = 0;
  for (const b of candidates) total += weightOf(b);
  let r = rng() * total;
  for (const b of candidates) {
    r -= weightOf(b);
    if (r < 0) return b;
  }
  // rng() returned 1 or rounding left a crumb: the last candidate owns the top of the range.
  return candidates[candidates.length - 1];
}
