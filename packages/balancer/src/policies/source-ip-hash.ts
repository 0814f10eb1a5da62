import { pickWeightedRandom, weightedEligible, weightOf } from "../eligible";
import { murmur3, unitInterval } from "../hash";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * Weighted rendezvous (highest random weight) hashing of the client IP: every
 * backend scores -weight / ln(u), u = murmur3(backend id, seed = murmur3(ip));
 * the best score wins. Shares match weights, no table to rebuild when the
 * eligible set or slow-start weights change, and removing a backend remaps
 * only the keys it owned. O(n) hashes per pick.
 * Without a key (no client address) the pick is weighted random.
 */
export class SourceIpHash implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    if (ctx.key === undefined) return pickWeightedRandom(candidates, this.rng);
    return rendezvous(candidates, ctx.key);
  }
}

export function rendezvous<B extends BackendView>(candidates: readonly B[], key: string): B | undefined {
  if (candidates.length <= 1) return candidates[0];
  const seed = murmur3(key);
  let best: B | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const b of candidates) {
    const score = weightOf(b) / -Math.log(unitInterval(murmur3(b.id, seed)));
    // Ties (astronomically rare) go to the smaller id so the result never depends on order.
    if (score > bestScore || (score === bestScore && best !== undefined && b.id < best.id)) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}

export const sourceIpHash: PolicyFactory = ({ rng }) => new SourceIpHash(rng);
