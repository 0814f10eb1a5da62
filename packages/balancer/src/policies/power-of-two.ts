import { weightedEligible, weightOf } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * Power of two choices: draw two distinct eligible backends at random (each
 * draw in proportion to weight), keep the one with the lower inFlight / weight.
 * On a tie the first draw wins, so an idle pool splits by weight. O(n) per
 * pick, two rng calls, no allocation beyond eligible().
 */
export class PowerOfTwo implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    if (candidates.length <= 1) return candidates[0];
    let total = 0;
    for (const b of candidates) total += weightOf(b);
    const first = draw(candidates, this.rng() * total, -1);
    const second = draw(candidates, this.rng() * (total - weightOf(candidates[first]!)), first);
    const a = candidates[first]!;
    const b = candidates[second]!;
    return b.inFlight / weightOf(b) < a.inFlight / weightOf(a) ? b : a;
  }
}

/** Index of the candidate owning point r of the cumulative weight line, skipping index `skip`. */
function draw(candidates: readonly BackendView[], r: number, skip: number): number {
  let last = -1;
  for (let i = 0; i < candidates.length; i++) {
    if (i === skip) continue;
    last = i;
    r -= weightOf(candidates[i]!);
    if (r < 0) return i;
  }
  return last;
}

export const powerOfTwo: PolicyFactory = ({ rng }) => new PowerOfTwo(rng);
