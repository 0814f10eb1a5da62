/** What a policy may know about one backend; the data plane owns the live values. */
export interface BackendView {
  readonly id: string;
  readonly weight: number;
  readonly state: "enabled" | "draining" | "disabled";
  readonly backup: boolean;
  readonly healthy: boolean;
  readonly inFlight: number;
}

export interface PickContext<B extends BackendView = BackendView> {
  readonly backends: readonly B[];
  /** Affinity key (client address, hash input) for policies that need one. */
  readonly key?: string;
}

export interface Policy {
  /** undefined means no backend is eligible; the caller answers 503. */
  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined;
}

export interface PolicyOptions {
  /** Returns a float in [0, 1); injected so tests and simulations are deterministic. */
  readonly rng: () => number;
  readonly options?: Readonly<Record<string, unknown>>;
}

export type PolicyFactory = (opts: PolicyOptions) => Policy;
