import { weightedEligible, weightOf } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * LVS "wlc": the backend with the lowest inFlight / weight. Ties (common at
 * low load, where every backend is idle) are broken by the injected rng in
 * proportion to weight, so a lightly loaded pool still splits by weight
 * instead of always hitting the first backend. One rng call per pick, no
 * allocation beyond eligible().
 */
export class LeastConnections implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    if (candidates.length <= 1) return candidates[0];
    // IEEE division is correctly rounded, so equal ratios (1/3, 2/6) compare equal.
    let best = Number.POSITIVE_INFINITY;
    let tiedWeight = 0;
    for (const b of candidates) {
      const score = b.inFlight / weightOf(b);
      if (score < best) {
        best = score;
        tiedWeight = weightOf(b);
      } else if (score === best) {
        tiedWeight += weightOf(b);
      }
    }
    let r = this.rng() * tiedWeight;
    let last: B | undefined;
    for (const b of candidates) {
      if (b.inFlight / weightOf(b) !== best) continue;
      last = b;
      r -= weightOf(b);
      if (r < 0) return b;
    }
    return last;
  }
}

export const leastConnections: PolicyFactory = ({ rng }) => new LeastConnections(rng);
