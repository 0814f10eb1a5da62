/**
 * Where a pool tells others about its source-IP pins, when something shares
 * them (the node-wide sticky table of --workers N, see workers/sticky-relay.ts).
 * One engine in one process has no such thing and pays nothing.
 */
export interface StickySync {
  /**
   * A new pin: `clientIp` now goes to `backendId` in pool `poolId`. `replaced`
   * is the backend it was pinned to before (undefined: none), so the owner of
   * the shared table can tell a deliberate move (that backend left) from a
   * race with another worker's first pick.
   */
  pinned(poolId: string, clientIp: string, backendId: string, replaced: string | undefined): void;
  /** `clientIp` was served by its pin (the entry's sliding TTL was refreshed here). */
  used(poolId: string, clientIp: string): void;
}
