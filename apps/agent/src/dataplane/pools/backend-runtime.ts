import type { Agent } from "node:http";
import { type BackendView, effectiveWeight } from "@fulcrum/balancer";
import type { SnapshotBackend } from "@fulcrum/protocol";
import type { LeasedBackend } from "../exchange";
import type { HealthChecker } from "../health/health-checker";
import type { BackendState } from "./backend-state";
import { connKeyOf, type TlsOrigin } from "./backend-tls";

export { upstreamKey } from "./backend-state";

/** Per pool and address, surviving swaps with the pool: ejection and the pool-level slow-start start. */
export interface PoolBackendState {
  ejected: boolean;
  ejectTimer: NodeJS.Timeout | undefined;
  /** When this pool last started sending to it again (enabled again, added to a running pool). */
  availableSince: number | undefined;
}

export const monotonicNow = (): number => performance.now();

/**
 * A backend as one pool of one snapshot sees it: the snapshot entry plus
 * views onto the state that outlives snapshots (BackendState per address,
 * PoolBackendState per pool and address, the health checker).
 */
export class BackendRuntime implements BackendView, LeasedBackend {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly state: SnapshotBackend["state"];
  readonly backup: boolean;
  readonly key: string;
  readonly connKey: string;
  /** The backend's own cap, else the pool's per-backend limit; undefined = unlimited. */
  readonly maxConnections: number | undefined;

  constructor(
    b: SnapshotBackend,
    readonly shared: BackendState,
    readonly perPool: PoolBackendState,
    readonly agent: Agent,
    readonly checker: HealthChecker | undefined,
    private readonly slowStartMs: number,
    poolLimit: number,
    readonly tls: TlsOrigin | undefined,
    workerCount = 1,
  ) {
    this.id = b.id;
    this.name = b.name;
    this.address = b.address;
    this.port = b.port;
    this.weight = b.weight;
    this.state = b.state;
    this.backup = b.backup;
    this.key = shared.key;
    this.connKey = connKeyOf(shared.key, tls);
    const limit = b.maxConnections ?? (poolLimit > 0 ? poolLimit : undefined);
    // With N data-plane workers each holds 1/N of the limit, so the node never exceeds it
    // (rounded down; at least 1 per worker, so a limit below N allows N).
    this.maxConnections = limit === undefined ? undefined : Math.max(1, Math.floor(limit / workerCount));
  }

  get healthy(): boolean {
    return this.checker === undefined || this.checker.healthy;
  }

  get inFlight(): number {
    return this.shared.inFlight;
  }

  get ejected(): boolean {
    return this.perPool.ejected;
  }

  get ewmaMs(): number | undefined {
    return this.shared.ewmaMs;
  }

  /** The slow-start ramp after the latest return (health up, ejection over, re-enabled); undefined = full weight. */
  get effectiveWeight(): number | undefined {
    if (this.slowStartMs <= 0) return undefined;
    const a = this.shared.availableSince;
    const b = this.perPool.availableSince;
    const since = a === undefined ? b : b === undefined ? a : Math.max(a, b);
    if (since === undefined) return undefined;
    return effectiveWeight(this.weight, since, monotonicNow(), this.slowStartMs);
  }

  get full(): boolean {
    return this.maxConnections !== undefined && this.shared.inFlight >= this.maxConnections;
  }
}
