import { StickyTable } from "@fulcrum/balancer";
import type { SnapshotPool } from "@fulcrum/protocol";
import { STICKY_MAX_ENTRIES } from "../dataplane/pools/pool-runtime";
import type { Pin } from "./messages";

interface PoolTable {
  readonly ttlMs: number;
  readonly table: StickyTable;
}

/**
 * The node-wide source-IP persistence tables of --workers N, kept by the
 * control process. Each worker still answers from its own copy (no IPC on the
 * request path); a worker that pins a new client publishes it here, the first
 * pin of a client wins, and the winner is sent to every worker, which adopts
 * it. A later pin replaces the winner only if it names it as the pin it
 * replaced (that worker saw its backend stop serving): that is how a race of
 * two first picks is told from a deliberate move. Same bounds as a worker's
 * table (TTL, STICKY_MAX_ENTRIES per pool), and the same clearing rule on a
 * snapshot change (engines/builtin/compile.ts: a pool that stops pinning by
 * source IP, or changes its TTL, starts empty). See docs/architecture.md,
 * "Policies across workers".
 */
export class NodeStickyTables {
  private tables = new Map<string, PoolTable>();

  /** Follows a new snapshot: keeps each table whose pool still pins by source IP with the same TTL. */
  configure(pools: readonly SnapshotPool[]): void {
    const next = new Map<string, PoolTable>();
    for (const p of pools) {
      if (p.persistence.type !== "source_ip") continue;
      const ttlMs = p.persistence.ttlSeconds * 1000;
      const had = this.tables.get(p.id);
      next.set(
        p.id,
        had !== undefined && had.ttlMs === ttlMs
          ? had
          : { ttlMs, table: new StickyTable({ ttlMs, maxEntries: STICKY_MAX_ENTRIES }) },
      );
    }
    this.tables = next;
  }

  /**
   * A worker's new pin: the pin every worker must hold now (the winner), or
   * undefined for a pool that does not pin (a message from before a snapshot change).
   */
  pin(
    poolId: string,
    client: string,
    backend: string,
    replaced: string | undefined,
    now: number,
  ): Pin | undefined {
    const t = this.tables.get(poolId);
    if (t === undefined) return undefined;
    const current = t.table.peek(client, now);
    const winner = current === undefined || current === replaced ? backend : current;
    t.table.set(client, winner, now);
    return [client, winner, t.ttlMs];
  }

  /** Clients served by their pin on some worker: their entries live on, and every worker is told. */
  touch(poolId: string, clients: readonly string[], now: number): Pin[] {
    const t = this.tables.get(poolId);
    if (t === undefined) return [];
    const out: Pin[] = [];
    for (const client of clients) {
      const backend = t.table.peek(client, now);
      if (backend === undefined) continue;
      t.table.set(client, backend, now);
      out.push([client, backend, t.ttlMs]);
    }
    return out;
  }

  /** Every live pin by pool, for a worker that (re)starts. */
  *all(now: number): Generator<[poolId: string, pins: Pin[]]> {
    for (const [poolId, t] of this.tables) {
      const pins = [...t.table.live(now)];
      if (pins.length > 0) yield [poolId, pins];
    }
  }
}
