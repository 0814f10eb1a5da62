import type { Policy } from "@fulcrum/protocol";
import type { SnapshotChange } from "../../snapshot/diff";
import type { LivenessSource } from "../agent-liveness";

/**
 * What `change.preview` answers: a change's diff against the running snapshot
 * and its estimated effect on traffic. docs/architecture.md ("Changes: moves,
 * bulk actions, dry run, rollout") explains how each number is estimated.
 */
export interface ChangePreview {
  /** False when the change would compile to the snapshot already running (no new version, nothing pushed). */
  changed: boolean;
  clusterId: string;
  /** The cluster's latest config version now; null before the first one. */
  currentVersion: number | null;
  /** Field-by-field diff of the would-be snapshot against the current one (same format as config.diff). */
  diff: SnapshotChange[];
  /** The agents that would receive the new snapshot: every non-revoked agent of the cluster. */
  agents: PreviewAgent[];
  /** Pools whose eligible backends, weights or policy change (pools merely renamed are left out). */
  pools: PoolEffect[];
  totals: {
    stickySessionsRepinned: number;
    connectionsToDrain: number;
  };
}

export interface PreviewAgent {
  id: string;
  name: string;
  /** Up: connected to this console or to another one on the same database (domain/agent-liveness.ts). */
  connected: boolean;
  via: LivenessSource | null;
  appliedVersion: number | null;
}

export interface PoolEffect {
  poolId: string;
  name: string;
  /** Policy after the change (before, for a deleted pool). */
  policy: Policy;
  /** "added" / "removed": the whole pool appears or goes; "changed": it exists before and after. */
  change: "added" | "removed" | "changed";
  /** Requests per second the pool receives now, over the last ~10 s, summed over agents. */
  rpsNow: number;
  /**
   * Routes that send the pool traffic after the change (before it, for a removed pool).
   * 0: the pool receives nothing, so every rpsAfter is 0.
   */
  routes: number;
  /** Every backend in the pool before or after the change. */
  backends: BackendEffect[];
  /** consistent_hash / source_ip_hash: share (0..1) of hash keys that land on another backend; null otherwise. */
  hashKeysMovedShare: number | null;
  /** Sticky sessions pinned to backends that leave the pool or stop being eligible. */
  stickySessionsRepinned: number;
  /** Active connections on backends that leave the pool or become draining/disabled. */
  connectionsToDrain: number;
  /** The pool's slow start after the change; backends joining ramp up over it (0: full weight at once). */
  slowStartMs: number;
}

export interface BackendEffect {
  id: string;
  name: string;
  address: string;
  port: number;
  /** "joins": in the pool only after; "leaves": only before; "stays": both. */
  membership: "joins" | "leaves" | "stays";
  /** Expected share (0..1) of the pool's new requests before and after the change. */
  shareBefore: number;
  shareAfter: number;
  /** Requests per second this backend receives now in this pool (last ~10 s); 0 for one joining from another pool. */
  rpsNow: number;
  /** Estimate after the change: shareAfter × the pool's current rate (0 when no route sends the pool traffic). */
  rpsAfter: number;
  /** Latest gauges from the agents (summed). */
  activeConnections: number;
  stickySessions: number;
  /** The console's view of its health now: up, down, ejected, draining, disabled or unknown. */
  status: string;
}

export type RolloutAgentState = "applied" | "pending" | "rejected" | "offline";

/** Progress of one config version through a cluster's agents (change.rollout). */
export interface Rollout {
  clusterId: string;
  version: number;
  /** The cluster's latest version: when it is newer than `version`, agents may have skipped to it. */
  latestVersion: number | null;
  agents: Array<{
    id: string;
    name: string;
    /** Up: connected to this console or to another one on the same database (domain/agent-liveness.ts). */
    connected: boolean;
    via: LivenessSource | null;
    appliedVersion: number | null;
    /**
     * applied: runs this version or a later one; rejected: refused it (NACK, see error);
     * pending: up and not there yet; offline: down and not there yet.
     */
    state: RolloutAgentState;
    error: string | null;
  }>;
  /** True when every agent has applied or rejected it (offline ones aside). */
  settled: boolean;
}

/** What backend.move, backend.bulkSetState and backend.bulkSetWeight return. */
export interface BulkBackendResult<B> {
  /** The new config version, or null when the change compiled to the running snapshot. */
  version: number | null;
  backends: B[];
}
