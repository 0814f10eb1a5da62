import { eligible } from "../eligible";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * Fills backends in their configured order: the first eligible backend whose
 * inFlight is below its maxConnections (undefined = unlimited) takes the
 * request, so later backends only see overflow (HAProxy "first"). Weights are
 * ignored. When every eligible backend is at its cap the pick is undefined
 * and the caller queues or answers 503, as for any full pool.
 */
export class FirstAvailable implements Policy {
  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    for (const b of eligible(ctx.backends)) {
      if (b.maxConnections === undefined || b.inFlight < b.maxConnections) return b;
    }
    return undefined;
  }
}

export const firstAvailable: PolicyFactory = () => new FirstAvailable();
