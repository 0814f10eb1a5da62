import { eligible } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/** Weights are ignored on purpose: that is what weighted_round_robin is for. */
export class RoundRobin implements Policy {
  private next = 0;

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = eligible(ctx.backends);
    if (candidates.length === 0) return undefined;
    const chosen = candidates[this.next % candidates.length];
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return chosen;
  }
}

export const roundRobin: PolicyFactory = () => new RoundRobin();
