/** What a policy may know about one backend; the data plane owns the live values. */
export interface BackendView {
  /** Stable identity; every hash and per-backend memo is keyed by it, never by object identity. */
  readonly id: string;
  /** Configured weight (0..256). 0 = no share for weighted policies. */
  readonly weight: number;
  readonly state: "enabled" | "draining" | "disabled";
  readonly backup: boolean;
  /** Active health checks (or none configured): false takes the backend out. */
  readonly healthy: boolean;
  /** Requests/connections currently open to this backend. */
  readonly inFlight: number;
  /** Passive outlier detection ejected it for now. undefined = not ejected. */
  readonly ejected?: boolean;
  /**
   * Weight after slow start (see effectiveWeight()); weighted policies use it
   * instead of `weight` when present. undefined = `weight`.
   */
  readonly effectiveWeight?: number;
  /** Moving average of response latency in ms; undefined = no sample yet. */
  readonly ewmaMs?: number;
  /**
   * Connection cap (the backend's own, else the pool's per-backend limit);
   * undefined = unlimited. Used by first_available.
   */
  readonly maxConnections?: number;
}

export interface PickContext<B extends BackendView = BackendView> {
  readonly backends: readonly B[];
  /**
   * Affinity key for hashing policies: the client IP for source_ip_hash, the
   * extracted header/cookie/path/IP value for consistent_hash. Without it they
   * fall back to a weighted random pick.
   */
  readonly key?: string;
}

export interface Policy {
  /** undefined means no backend is eligible (or, for first_available, all are full); the caller answers 503. */
  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined;
}

/** What createPolicy() and every factory receive. */
export interface PolicyOptions {
  /** Returns a float in [0, 1); injected so tests and simulations are deterministic. */
  readonly rng: () => number;
  /** The snapshot's policyOptions, validated by the policy (see parsePolicyOptions). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Alias of PolicyOptions with a less ambiguous name. */
export type PolicyFactoryInput = PolicyOptions;

export type PolicyFactory = (opts: PolicyOptions) => Policy;
