import { SnapshotInvalidError } from "../../errors";
import type { LeasedBackend } from "../exchange";
import type { DataPlaneTimeouts } from "../timeouts";
import { H2PoolUpstream } from "./pool-upstream";
import type { H2SessionGroup, H2Upstreams } from "./session-pool";

interface PoolUpstreamSettings {
  readonly name: string;
  readonly upstream?: {
    readonly protocol: "http1" | "h2" | "h2c";
    readonly maxStreamsPerConnection: number;
  } | null;
  readonly tls?: unknown;
}

/**
 * A pool's HTTP/2 upstream for one snapshot (undefined: HTTP/1.1 to its
 * backends): a session group per backend, taken from the engine's
 * H2Upstreams so warm sessions survive the swap; `used` collects them for
 * the commit's prune.
 */
export function compileH2Upstream(
  pool: PoolUpstreamSettings,
  backends: readonly LeasedBackend[],
  upstreams: H2Upstreams,
  timeouts: DataPlaneTimeouts,
  used: Set<H2SessionGroup>,
): H2PoolUpstream | undefined {
  const u = pool.upstream;
  if (u === undefined || u === null || u.protocol === "http1") return undefined;
  if (u.protocol === "h2" && !pool.tls) {
    throw new SnapshotInvalidError(`pool ${pool.name}: upstream protocol h2 needs the pool's TLS settings`);
  }
  const settings = {
    protocol: u.protocol,
    maxStreamsPerConnection: u.maxStreamsPerConnection,
    connectMs: timeouts.upstreamConnectMs,
    idleMs: timeouts.upstreamKeepAliveMs,
  };
  const groups = new Map<string, H2SessionGroup>();
  for (const b of backends) {
    const g = upstreams.group(b, settings);
    used.add(g);
    groups.set(b.key, g);
  }
  return new H2PoolUpstream(u.protocol, groups);
}
