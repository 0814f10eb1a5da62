import type { Policy } from "@fulcrum/balancer";
import type { BackendRuntime } from "./backend-runtime";

export class PoolRuntime {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly policyName: string,
    readonly policy: Policy,
    readonly backends: readonly BackendRuntime[],
  ) {}

  pick(key?: string): BackendRuntime | undefined {
    return this.policy.pick(
      key === undefined ? { backends: this.backends } : { backends: this.backends, key },
    );
  }
}
