import type { StickySync } from "../dataplane/pools/sticky-sync";
import type { FromWorker } from "./messages";

/** Clients per touch message: keeps one IPC message small even when a pool pins many clients. */
const TOUCH_CHUNK = 10_000;

/**
 * A worker's side of the node-wide source-IP table (see node-sticky-tables.ts
 * for the control process's side): new pins go to the control process at
 * once; clients served by their pin are collected and sent as one "touch" per
 * pool at most every quarter of its TTL, so the node-wide entry's sliding TTL
 * follows use on any worker without one message per request.
 */
export class StickyRelay implements StickySync {
  private readonly used_ = new Map<string, Set<string>>();
  private readonly lastTouch = new Map<string, number>();

  constructor(private readonly send: (m: FromWorker) => void) {}

  pinned(poolId: string, clientIp: string, backendId: string, replaced: string | undefined): void {
    this.send({
      t: "pin",
      pool: poolId,
      client: clientIp,
      backend: backendId,
      ...(replaced === undefined ? {} : { replaced }),
    });
  }

  used(poolId: string, clientIp: string): void {
    let set = this.used_.get(poolId);
    if (set === undefined) {
      set = new Set();
      this.used_.set(poolId, set);
    }
    set.add(clientIp);
  }

  /**
   * Called with every heartbeat. `ttlMsOf` gives a pool's TTL, or undefined
   * when it no longer pins by source IP (its clients are dropped). A pool is
   * touched when a quarter of its TTL has passed since its last touch, which
   * is always before any entry it refreshed last time expires.
   */
  flush(now: number, ttlMsOf: (poolId: string) => number | undefined): void {
    for (const [poolId, clients] of this.used_) {
      const ttlMs = ttlMsOf(poolId);
      if (ttlMs === undefined) {
        this.used_.delete(poolId);
        this.lastTouch.delete(poolId);
        continue;
      }
      if (now - (this.lastTouch.get(poolId) ?? Number.NEGATIVE_INFINITY) < ttlMs / 4) continue;
      this.used_.delete(poolId);
      this.lastTouch.set(poolId, now);
      const all = [...clients];
      for (let i = 0; i < all.length; i += TOUCH_CHUNK) {
        this.send({ t: "touch", pool: poolId, clients: all.slice(i, i + TOUCH_CHUNK) });
      }
    }
  }
}
