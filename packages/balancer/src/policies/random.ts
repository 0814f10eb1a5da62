import { eligible } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

export class RandomPolicy implements Policy {
  constructor(private readonly rng: () => number) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = eligible(ctx.backends);
    if (candidates.length === 0) return undefined;
    // min() guards against an rng that returns exactly 1.
    return candidates[Math.min(candidates.length - 1, Math.floor(this.rng() * candidates.length))];
  }
}

export const random: PolicyFactory = ({ rng }) => new RandomPolicy(rng);
