import { weightedEligible, weightOf } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * Lowest ewmaMs × (inFlight + 1) / weight. A backend without a latency sample
 * yet is scored optimistically with the best known EWMA in the set (not 0, so
 * a new backend is tried promptly without swallowing every request until its
 * first response returns). With no samples at all this is least connections.
 * Ties go to the rng in proportion to weight, like least_connections.
 */
export class LeastResponseTime implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    if (candidates.length <= 1) return candidates[0];
    let bestKnown = Number.POSITIVE_INFINITY;
    for (const b of candidates) {
      if (b.ewmaMs !== undefined && Number.isFinite(b.ewmaMs) && b.ewmaMs >= 0 && b.ewmaMs < bestKnown) {
        bestKnown = b.ewmaMs;
      }
    }
    // Latency floor: a 0 ms average would make inFlight irrelevant.
    const fallback = Number.isFinite(bestKnown) ? bestKnown : 1;
    const score = (b: BackendView): number => {
      const known = b.ewmaMs !== undefined && Number.isFinite(b.ewmaMs) && b.ewmaMs >= 0;
      const latency = Math.max(known ? (b.ewmaMs as number) : fallback, 0.001);
      return (latency * (b.inFlight + 1)) / weightOf(b);
    };
    let best = Number.POSITIVE_INFINITY;
    let tiedWeight = 0;
    for (const b of candidates) {
      const s = score(b);
      if (s < best) {
        best = s;
        tiedWeight = weightOf(b);
      } else if (s === best) {
        tiedWeight += weightOf(b);
      }
    }
    let r = this.rng() * tiedWeight;
    let last: B | undefined;
    for (const b of candidates) {
      if (score(b) !== best) continue;
      last = b;
      r -= weightOf(b);
      if (r < 0) return b;
    }
    return last;
  }
}

/**
 * Helper for the data plane: folds one latency sample into an EWMA.
 * alpha = weight of the new sample (0.3 reacts within a few requests).
 */
export function nextEwma(previous: number | undefined, sampleMs: number, alpha = 0.3): number {
  if (previous === undefined || !Number.isFinite(previous)) return sampleMs;
  return previous + alpha * (sampleMs - previous);
}

export const leastResponseTime: PolicyFactory = ({ rng }) => new LeastResponseTime(rng);
