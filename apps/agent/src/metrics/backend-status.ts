import type { BackendStatus, HealthEvent, SnapshotBackend, SnapshotPool } from "@fulcrum/protocol";

/** What an engine can say about one backend of one pool right now. */
export interface BackendHealth {
  /** Active checks: "unknown" until the first verdict (it serves meanwhile); "up" when the pool has none. */
  health: "up" | "down" | "unknown";
  /** Ejected by outlier detection. */
  ejected: boolean;
}

/** Optional direct view onto the engine's per-pool backend state; undefined = the engine cannot tell. */
export type BackendHealthProbe = (poolId: string, backendId: string) => BackendHealth | undefined;

const key = (poolId: string, address: string, port: number) => `${poolId}|${address}:${port}`;

/**
 * The status of each snapshot backend: the snapshot's own state first
 * (disabled, draining), then health from the engine's probe when it has one,
 * else from the last health events seen (`down`/`up`, `ejected`/`restored`).
 * Health is kept per pool and address, like the engine keeps it, so it
 * survives snapshot swaps that keep the address.
 */
export class BackendStatusTracker {
  private readonly health = new Map<string, "up" | "down">();
  private readonly ejected = new Set<string>();

  constructor(private readonly probe?: BackendHealthProbe) {}

  /** Feed it every health event (engine.onHealthEvent). */
  observe(e: HealthEvent): void {
    const k = key(e.poolId, e.address, e.port);
    switch (e.state) {
      case "up":
        this.health.set(k, "up");
        break;
      case "down":
        this.health.set(k, "down");
        break;
      case "ejected":
        this.ejected.add(k);
        break;
      case "restored":
        this.ejected.delete(k);
        break;
      case "drained":
        break;
    }
  }

  status(pool: SnapshotPool, b: SnapshotBackend): BackendStatus {
    if (b.state === "disabled") return "disabled";
    if (b.state === "draining") return "draining";
    const probed = this.probe?.(pool.id, b.id);
    if (probed) {
      if (probed.health === "down") return "down";
      if (probed.ejected) return "ejected";
      return probed.health;
    }
    const k = key(pool.id, b.address, b.port);
    const h = this.health.get(k);
    if (h === "down") return "down";
    if (this.ejected.has(k)) return "ejected";
    if (h === "up") return "up";
    // No event yet: without active checks it serves as up; with them the first verdict is pending.
    return pool.healthCheck.type === "none" ? "up" : "unknown";
  }

  /** Drops what belongs to pools and addresses no longer in the snapshot. */
  retain(pools: readonly SnapshotPool[]): void {
    const live = new Set<string>();
    for (const p of pools) for (const b of p.backends) live.add(key(p.id, b.address, b.port));
    for (const k of this.health.keys()) if (!live.has(k)) this.health.delete(k);
    for (const k of this.ejected) if (!live.has(k)) this.ejected.delete(k);
  }
}
