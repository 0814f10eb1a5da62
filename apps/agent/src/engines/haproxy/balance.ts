import { consistentHashOptionsSchema, type Policy, type SnapshotPool } from "@fulcrum/protocol";

/** How HAProxy balances a pool of one policy. */
export interface HaproxyBalance {
  /** The backend section's balance (and hash-type) lines. */
  lines(pool: SnapshotPool): string[];
  /** A static algorithm: HAProxy's slowstart cannot ramp its weights (engine support: pool:slow_start_static). */
  static: boolean;
}

const fixed =
  (...lines: string[]) =>
  () =>
    lines;

function consistentHashLines(pool: SnapshotPool): string[] {
  const o = consistentHashOptionsSchema.parse(pool.policyOptions ?? {});
  const name = o.keyName ?? "";
  const by =
    o.key === "header"
      ? `balance hdr(${name})`
      : o.key === "cookie"
        ? `balance hash req.cook(${name})`
        : o.key === "path"
          ? "balance uri"
          : "balance source";
  return [by, "hash-type consistent"];
}

/**
 * Every policy of the protocol's table, keyed by its names so a new policy
 * does not compile until it is given a row. null: HAProxy has no such
 * algorithm, and engine-support.ts marks the policy unsupported (validate.ts
 * refuses the snapshot before anything is rendered; a test keeps the two in step).
 */
export const HAPROXY_BALANCE: { readonly [P in Policy]: HaproxyBalance | null } = {
  round_robin: { lines: fixed("balance roundrobin"), static: false },
  weighted_round_robin: { lines: fixed("balance roundrobin"), static: false },
  random: { lines: fixed("balance random"), static: false },
  weighted_random: { lines: fixed("balance random"), static: false },
  least_connections: { lines: fixed("balance leastconn"), static: false },
  power_of_two: { lines: fixed("balance random(2)"), static: false },
  least_response_time: null,
  source_ip_hash: { lines: fixed("balance source", "hash-type consistent"), static: true },
  consistent_hash: { lines: consistentHashLines, static: true },
  first_available: { lines: fixed("balance first"), static: true },
};
