import type {
  CaBundleMaterial,
  HealthEvent,
  Snapshot,
  TicketKeyRing,
  TlsMaterial,
  WorkerRestart,
  WorkerState,
} from "@fulcrum/protocol";
import type { EngineStats } from "./engine-stats";

export type { EngineStats } from "./engine-stats";

/** One data-plane worker as the Agents page and Prometheus show it. */
export interface WorkerStatus {
  index: number;
  pid: number | undefined;
  /** Running and serving the current snapshot. */
  up: boolean;
  state: WorkerState;
  lastRestart: WorkerRestart | undefined;
  /** CPU over the last heartbeat interval, in % of one core. */
  cpuPercent: number;
  /**
   * Longest event-loop delay over the last heartbeat interval, in ms: a loop
   * that is slow but not silent (no stall kill yet) shows here.
   */
  eventLoopDelayMs: number;
  restarts: number;
  /** Times it was killed for a stuck event loop (included in restarts). */
  stalls: number;
  /** Client connections accepted since it (re)started. */
  connections: number;
}

export interface AppliedSnapshot {
  readonly version: number;
  readonly hash: string;
}

/**
 * What the agent needs from a data plane. Kept this small so an HAProxy (or
 * nginx) engine can implement it by rendering a config and reloading.
 */
export interface Engine {
  /**
   * Builds the new configuration aside and swaps it in. On failure the old
   * configuration keeps serving and the promise rejects with an AgentError
   * whose message is fit for a NACK reason. `tlsMaterial`: the keys and
   * chains of the snapshot's certificates, sent next to it (never part of it);
   * `caBundles`: the PEM of the CA bundles its pools verify backends against.
   */
  apply(
    snapshot: Snapshot,
    tlsMaterial?: readonly TlsMaterial[],
    caBundles?: readonly CaBundleMaterial[],
  ): Promise<void>;
  /** The snapshot currently being served, if any. */
  readonly applied: AppliedSnapshot | undefined;
  /** Stops accepting, lets in-flight work finish up to the grace period, then closes. */
  stop(): Promise<void>;
  /**
   * Backend health and drain transitions (up, down, ejected, restored,
   * drained), as they happen. Returns the unsubscribe function. Optional: an
   * engine without health checks need not offer it.
   */
  onHealthEvent?(listener: (event: HealthEvent) => void): () => void;
  /**
   * The cluster's TLS session-ticket keys (the console's `ticketKeys` message,
   * or a --config file): TLS listeners encrypt tickets with the ring's current
   * key from now on, without a snapshot. Rejects with TicketKeysInvalidError
   * (the previous ring stays) when the ring cannot be used.
   */
  setTicketKeys?(ring: TicketKeyRing): Promise<void>;
  /** Counters and latency histograms, JSON-serializable. */
  stats?(): EngineStats;
  /** Data-plane worker processes, when the engine runs several (builtin, --workers N > 1). */
  workers?(): WorkerStatus[];
}
