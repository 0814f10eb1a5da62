import {
  http2FeaturesUsed,
  isSniName,
  poolUpstreamSchema,
  type Snapshot,
  type SnapshotPool,
  type SnapshotProxyListener,
} from "@fulcrum/protocol";

/*
 * HTTP/2 on the HAProxy engine (issue 18). HAProxy 2.6's HTTP/2 limits are
 * global (tune.h2.*), it closes an idle HTTP/2 connection after `timeout
 * http-keep-alive`, and a plain HTTP bind without `proto h1` upgrades any
 * connection that opens with the HTTP/2 preface (measured with haproxy
 * 2.6.12 and curl --http2-prior-knowledge). So: `proto h1` wherever the
 * listener does not speak HTTP/2, `alpn h2,http/1.1` on TLS binds that do,
 * and what cannot be expressed per listener is refused by validate.ts.
 */

const proxyListeners = (snapshot: Snapshot) =>
  snapshot.listeners.filter((l): l is SnapshotProxyListener => l.protocol !== "dns");

/** The HTTP/2 settings a listener actually serves with, or undefined when it speaks HTTP/1.1 only. */
export function activeHttp2(l: SnapshotProxyListener) {
  return http2FeaturesUsed(l).length > 0 ? (l.http2 ?? undefined) : undefined;
}

/** The bind line's protocol options: ALPN h2 on TLS, h2c detection on plain, else HTTP/1.1 only. */
export function bindProtocolOptions(l: SnapshotProxyListener): string[] {
  const h2 = activeHttp2(l);
  if (l.tls) return h2 ? ["alpn h2,http/1.1"] : ["alpn http/1.1", "proto h1"];
  return h2 ? [] : ["proto h1"];
}

/** Global tune.h2.* lines from the HTTP/2 listeners (validate.ts made sure they agree); none without HTTP/2. */
export function h2GlobalLines(snapshot: Snapshot): string[] {
  const first = proxyListeners(snapshot)
    .map(activeHttp2)
    .find((h) => h !== undefined);
  if (!first) return [];
  return [
    `tune.h2.max-concurrent-streams ${first.maxConcurrentStreams}`,
    `tune.h2.initial-window-size ${first.initialWindowBytes}`,
  ];
}

/** `server` options for HTTP/2 to the backend; health checks of an HTTP check speak it too. */
export function serverProtocolOptions(pool: SnapshotPool): string[] {
  const protocol = pool.upstream?.protocol ?? "http1";
  const httpCheck = pool.healthCheck.type === "http";
  if (protocol === "h2c") return ["proto h2", ...(httpCheck ? ["check-proto h2"] : [])];
  // HTTP checks of h2 pools are refused (findH2Unsupported); TCP checks handshake with check-ssl.
  if (protocol === "h2") return ["proto h2"];
  return [];
}

/**
 * An HTTP check of an HTTP/2 pool: HAProxy's default HTTP/1.0 check request
 * without Host has no :authority in HTTP/2, and servers (node:http2 among
 * them) reset it. HTTP/1.1 with a Host: the pool's fixed SNI name (a name
 * the backend answers to), else localhost. The name passed the SNI grammar.
 */
export function h2CheckRequestSuffix(pool: SnapshotPool): string {
  if ((pool.upstream?.protocol ?? "http1") === "http1") return "";
  const fixed = pool.tls?.sni === "fixed" ? pool.tls.sniName : null;
  return ` ver HTTP/1.1 hdr host ${fixed && isSniName(fixed) ? fixed : "localhost"}`;
}

/** The server ALPN for a pool with TLS. */
export const serverAlpn = (pool: SnapshotPool): "h2" | "http/1.1" =>
  pool.upstream?.protocol === "h2" ? "h2" : "http/1.1";

const DEFAULT_STREAMS = poolUpstreamSchema.parse({}).maxStreamsPerConnection;

/** The HTTP/2 uses HAProxy cannot express; `use(key, where)` records each. */
export function findH2Unsupported(snapshot: Snapshot, use: (key: string, where: string) => void): void {
  const settings = new Set<string>();
  for (const l of proxyListeners(snapshot)) {
    const h2 = activeHttp2(l);
    if (!h2) continue;
    settings.add(`${h2.maxConcurrentStreams}/${h2.initialWindowBytes}`);
    if (h2.idleMs !== l.settings.timeouts.keepAliveMs) use("listener:h2_idle_differs", `listener ${l.name}`);
  }
  if (settings.size > 1) use("listener:per_listener_h2_settings", "HTTP/2 listeners");
  for (const p of snapshot.pools) {
    const u = p.upstream;
    if (u && u.protocol !== "http1" && u.maxStreamsPerConnection !== DEFAULT_STREAMS) {
      use("pool:upstream_stream_cap", `pool ${p.name}`);
    }
    if (u?.protocol === "h2" && p.healthCheck.type === "http")
      use("pool:upstream_h2_http_check", `pool ${p.name}`);
  }
}
