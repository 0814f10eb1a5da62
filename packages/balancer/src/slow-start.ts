/** Share of the weight a backend gets the moment it comes back (10%). */
export const SLOW_START_MIN_FRACTION = 0.1;

/**
 * Weight of a backend that became available at `availableSince`, ramping
 * linearly from 10% to 100% of `baseWeight` over `slowStartMs`. Returns
 * `baseWeight` when slow start is off (slowStartMs ≤ 0), the backend has
 * never been away (availableSince undefined) or the ramp is over. Never 0
 * for baseWeight > 0; a clock running backwards counts as "just came back".
 * Feed the result to BackendView.effectiveWeight.
 */
export function effectiveWeight(
  baseWeight: number,
  availableSince: number | undefined,
  now: number,
  slowStartMs: number,
  minFraction = SLOW_START_MIN_FRACTION,
): number {
  if (!(baseWeight > 0)) return 0;
  if (availableSince === undefined || !(slowStartMs > 0)) return baseWeight;
  const elapsed = Math.max(0, now - availableSince);
  if (elapsed >= slowStartMs) return baseWeight;
  const floor = Math.min(1, Math.max(minFraction, Number.EPSILON));
  return baseWeight * (floor + (1 - floor) * (elapsed / slowStartMs));
}

/** True while the ramp is still running, so the caller knows to keep feeding effectiveWeight. */
export function inSlowStart(availableSince: number | undefined, now: number, slowStartMs: number): boolean {
  return availableSince !== undefined && slowStartMs > 0 && now - availableSince < slowStartMs;
}
