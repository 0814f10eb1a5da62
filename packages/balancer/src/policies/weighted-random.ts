import { pickWeightedRandom, weightedEligible } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/** Each pick is independent: P(backend) = effective weight / total. O(n), no state. */
export class WeightedRandom implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    return pickWeightedRandom(weightedEligible(ctx.backends), this.rng);
  }
}

export const weightedRandom: PolicyFactory = ({ rng }) => new WeightedRandom(rng);
