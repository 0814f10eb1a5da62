import { weightedEligible, weightOf } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * nginx's smooth weighted round robin: each pick adds every weight to its
 * running score, takes the highest and subtracts the total, so heavy backends
 * are spread out (5,1,1 gives a a b a c a a) instead of served in bursts.
 * Uses the slow-start effectiveWeight when the data plane provides one.
 */
export class WeightedRoundRobin implements Policy {
  private readonly current = new Map<string, number>();

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    let total = 0;
    let best: B | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const b of candidates) {
      const w = weightOf(b);
      const score = (this.current.get(b.id) ?? 0) + w;
      this.current.set(b.id, score);
      total += w;
      if (score > bestScore) {
        best = b;
        bestScore = score;
      }
    }
    if (!best) return undefined;
    this.current.set(best.id, bestScore - total);
    this.forgetGone(candidates);
    return best;
  }

  /** Scores of backends that left the set would skew them when they come back. */
  private forgetGone(candidates: readonly BackendView[]): void {
    if (this.current.size === candidates.length) return;
    const live = new Set(candidates.map((b) => b.id));
    for (const id of this.current.keys()) if (!live.has(id)) this.current.delete(id);
  }
}

export const weightedRoundRobin: PolicyFactory = () => new WeightedRoundRobin();
