import type { LeasedBackend } from "../exchange";
import type { H2SessionGroup } from "./session-pool";

/**
 * A pool whose upstream protocol is h2 or h2c: its backends' session groups.
 * Front ends find it on the PoolHandle (`upstreamH2`) and forward with
 * forwardH2() instead of their HTTP/1.1 upstream path.
 */
export class H2PoolUpstream {
  constructor(
    readonly protocol: "h2" | "h2c",
    private readonly groups: ReadonlyMap<string, H2SessionGroup>,
  ) {}

  /** The leased backend's sessions (every backend of the pool has a group, built by compile). */
  group(backend: LeasedBackend): H2SessionGroup {
    const g = this.groups.get(backend.key);
    if (g === undefined) throw new Error(`no HTTP/2 session group for backend ${backend.key}`);
    return g;
  }
}
