import { createPolicy, isPolicyImplemented } from "@fulcrum/balancer";
import type { Snapshot } from "@fulcrum/protocol";
import { PolicyUnsupportedError, SnapshotInvalidError } from "../errors";
import { BackendRuntime, upstreamKey } from "./backend-runtime";
import { PoolRuntime } from "./pool-runtime";
import { RouteTable } from "./route-table";
import type { UpstreamAgents } from "./upstream-agents";

export interface CompiledConfig {
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  /** Keyed by listener id. */
  readonly tables: ReadonlyMap<string, RouteTable>;
  readonly upstreamKeys: ReadonlySet<string>;
}

/**
 * Everything that can fail for reasons other than binding fails here, before
 * any socket is touched. A pool whose id and policy are unchanged keeps its
 * policy object, so round-robin position and WRR scores survive a reload.
 */
export function compileSnapshot(
  snapshot: Snapshot,
  previous: ReadonlyMap<string, PoolRuntime>,
  agents: UpstreamAgents,
  rng: () => number,
): CompiledConfig {
  const pools = new Map<string, PoolRuntime>();
  const upstreamKeys = new Set<string>();
  for (const p of snapshot.pools) {
    if (pools.has(p.id)) throw new SnapshotInvalidError(`pool id ${p.id} appears twice`);
    if (!isPolicyImplemented(p.policy)) {
      throw new PolicyUnsupportedError(
        `pool ${p.name}: policy ${p.policy} is not supported by this agent yet`,
      );
    }
    const old = previous.get(p.id);
    const policy =
      old && old.policyName === p.policy
        ? old.policy
        : createPolicy(p.policy, { rng, options: p.policyOptions });
    const backends = p.backends.map((b) => {
      const key = upstreamKey(b);
      upstreamKeys.add(key);
      return new BackendRuntime(b, agents.get(key));
    });
    pools.set(p.id, new PoolRuntime(p.id, p.name, p.policy, policy, backends));
  }
  const tables = new Map<string, RouteTable>();
  for (const l of snapshot.listeners) {
    const routes = l.routes.map((r) => {
      const pool = pools.get(r.poolId);
      if (!pool) throw new SnapshotInvalidError(`route ${r.id} points at missing pool ${r.poolId}`);
      return { id: r.id, host: r.host.toLowerCase(), pathPrefix: r.pathPrefix, priority: r.priority, pool };
    });
    if (l.protocol === "tcp" && routes.length === 0) {
      throw new SnapshotInvalidError(`tcp listener ${l.name} has no route, so no pool to forward to`);
    }
    tables.set(l.id, new RouteTable(routes));
  }
  return { pools, tables, upstreamKeys };
}
