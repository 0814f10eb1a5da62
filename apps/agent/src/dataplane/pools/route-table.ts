import type { RouteAction } from "@fulcrum/protocol";
import type { ListenerConfig } from "../frontends/listener-config";
import type { TrafficCounters } from "../stats/counters";
import type { PoolRuntime } from "./pool-runtime";

export interface CompiledRoute {
  readonly id: string;
  /** Lower-cased; "" matches any host. */
  readonly host: string;
  readonly pathPrefix: string;
  readonly priority: number;
  readonly pool: PoolRuntime;
  /** Counters of this route (same object across swaps while the route id stays); compile always sets it. */
  readonly stats?: TrafficCounters;
  /** undefined = proxy. */
  readonly action?: RouteAction;
  /** Set when action is redirect. */
  readonly redirect?: CompiledRedirect;
}

export interface CompiledRedirect {
  readonly status: 302 | 307;
  /** Query parameter that marks a redirected request (the loop guard). */
  readonly loopGuard: string;
  /** Backend id → its publicBaseUrl without a trailing slash. */
  readonly baseUrls: ReadonlyMap<string, string>;
}

/** "Example.com:8080" → "example.com", "[::1]:80" → "::1". */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return "";
  let host = raw.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(":");
  if (colon !== -1 && colon === host.lastIndexOf(":")) host = host.slice(0, colon);
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

/** Immutable: a new snapshot builds a new table and the listener swaps the reference. */
export class RouteTable {
  private readonly ordered: readonly CompiledRoute[];

  /**
   * `config` is the listener's compiled settings; it travels with the table so
   * a kept listener picks up new timeouts with the new routes.
   */
  constructor(
    routes: readonly CompiledRoute[],
    readonly config?: ListenerConfig,
  ) {
    // Highest priority first, then the longest prefix, then a named host before the "" wildcard.
    this.ordered = [...routes].sort(
      (a, b) =>
        b.priority - a.priority ||
        b.pathPrefix.length - a.pathPrefix.length ||
        Number(b.host !== "") - Number(a.host !== ""),
    );
  }

  get size(): number {
    return this.ordered.length;
  }

  /** In match order; dns listeners build their name index from it. */
  get routes(): readonly CompiledRoute[] {
    return this.ordered;
  }

  /** `host` is already normalized; `path` may carry a query string. */
  match(host: string, path: string): CompiledRoute | undefined {
    for (const r of this.ordered) {
      if (r.host !== "" && r.host !== host) continue;
      if (path.startsWith(r.pathPrefix)) return r;
    }
    return undefined;
  }

  /** TCP listeners have no host or path: the top route decides the pool. */
  first(): CompiledRoute | undefined {
    return this.ordered[0];
  }
}
