import { POLICIES, POLICY_FACTS, type Policy } from "./policies";

/**
 * Which snapshot features each data-plane engine can express, written once:
 * the agent NACKs a snapshot that uses an unsupported one (never a silent
 * approximation) and the console shows the same table.
 */

export const ENGINES = ["builtin", "haproxy"] as const;
export type EngineName = (typeof ENGINES)[number];

export type Support = { supported: true; note?: string } | { supported: false; reason: string };

export interface EngineFeature {
  /** Stable key, e.g. "policy:least_response_time". */
  key: string;
  /** What the operator sees in the console. */
  label: string;
  support: Record<EngineName, Support>;
}

const yes = (note?: string): Support => (note ? { supported: true, note } : { supported: true });
const no = (reason: string): Support => ({ supported: false, reason });
const both = (key: string, label: string, haproxyNote?: string): EngineFeature => ({
  key,
  label,
  support: { builtin: yes(), haproxy: yes(haproxyNote) },
});
const builtinOnly = (key: string, label: string, reason: string): EngineFeature => ({
  key,
  label,
  support: { builtin: yes(), haproxy: no(reason) },
});

/**
 * How the HAProxy engine runs each policy (the renderer writes these balance
 * lines). Keyed by the policy table, so a new policy without a row here does
 * not compile.
 */
const HAPROXY_POLICIES: { readonly [P in Policy]: Support } = {
  round_robin: yes("balance roundrobin, every server at weight 1 (weights ignored)."),
  weighted_round_robin: yes("balance roundrobin."),
  random: yes("balance random, every server at weight 1 (weights ignored)."),
  weighted_random: yes("balance random."),
  least_connections: yes("balance leastconn."),
  power_of_two: yes("balance random(2)."),
  least_response_time: no("HAProxy has no latency-aware balancing algorithm."),
  source_ip_hash: yes("balance source with hash-type consistent."),
  consistent_hash: yes("hash-type consistent with balance source, hdr(name), uri or hash req.cook(name)."),
  first_available: yes("balance first (fills servers up to maxconn)."),
};

/** One row per policy ("policy:<name>"), in the policy table's order, each option-level row after its policy. */
function policyFeatures(): EngineFeature[] {
  return POLICIES.flatMap((p) => {
    const row: EngineFeature = {
      key: `policy:${p}`,
      label: p === "consistent_hash" ? "Consistent hash (ring)" : POLICY_FACTS[p].label,
      support: { builtin: yes(), haproxy: HAPROXY_POLICIES[p] },
    };
    if (p !== "consistent_hash") return [row];
    return [
      row,
      builtinOnly(
        "consistent_hash:maglev",
        "Consistent hash, Maglev algorithm",
        "HAProxy's consistent hashing is a ring; it has no Maglev table.",
      ),
    ];
  });
}

export const ENGINE_FEATURES: readonly EngineFeature[] = [
  both("listener:http", "HTTP listeners"),
  both("listener:tcp", "TCP listeners"),
  {
    key: "listener:tls",
    label: "TLS termination on HTTP listeners (HTTPS)",
    support: {
      builtin: yes("TLS 1.2 and 1.3, SNI with wildcards, ALPN http/1.1"),
      haproxy: yes(
        "bind … ssl crt-list (SNI filters per certificate, default first, strict-sni for reject), same versions and suites; a rotation is `set ssl cert` at runtime. A trailing dot in SNI matches no name. Handshake counters come from HAProxy's ssl stats (`ssl_sess`, `ssl_reused_sess`, `ssl_failed_handshake`), which give failures no reason: all count as `other`.",
      ),
    },
  },
  {
    key: "listener:redirect_to_https",
    label: "Redirect plain HTTP to HTTPS (listener option)",
    support: {
      builtin: yes(),
      haproxy: yes("http-request redirect location https://host[:port]%[pathq]; a bad Host gets 400."),
    },
  },
  {
    key: "listener:http2",
    label: "HTTP/2 on TLS listeners (ALPN h2)",
    support: {
      builtin: yes(
        "ALPN h2,http/1.1; each stream a request through the same routes, pools and statistics, sent to HTTP/1.1 backends; limits and attack defences on by default.",
      ),
      haproxy: yes(
        "bind … ssl alpn h2,http/1.1; maxConcurrentStreams and initialWindowBytes become the global tune.h2.max-concurrent-streams and tune.h2.initial-window-size; the decoded header list is bounded by HAProxy's buffer (maxHeaderBytes, tune.bufsize), not by maxHeaderListBytes. Listeners without HTTP/2 get proto h1.",
      ),
    },
  },
  {
    key: "listener:h2c",
    label: "HTTP/2 with prior knowledge on plain HTTP listeners (h2c)",
    support: {
      builtin: yes("The client preface is recognised next to HTTP/1.1 on the same port; no Upgrade: h2c."),
      haproxy: yes(
        "A plain bind without proto h1: HAProxy detects the HTTP/2 preface next to HTTP/1.1; same tune.h2.* settings and header bound as with TLS.",
      ),
    },
  },
  builtinOnly(
    "listener:per_listener_h2_settings",
    "Different HTTP/2 stream or window limits per listener",
    "HAProxy's HTTP/2 limits are global (tune.h2.max-concurrent-streams, tune.h2.initial-window-size); give every HTTP/2 listener the same maxConcurrentStreams and initialWindowBytes.",
  ),
  builtinOnly(
    "listener:h2_idle_differs",
    "HTTP/2 idle timeout different from the keep-alive timeout",
    "HAProxy closes an idle HTTP/2 connection after timeout http-keep-alive, the listener's keepAliveMs; set http2.idleMs = keepAliveMs.",
  ),
  builtinOnly("listener:dns", "DNS listeners", "HAProxy does not answer DNS queries."),
  builtinOnly(
    "acme:http01",
    "ACME HTTP-01 challenges answered by plain HTTP listeners",
    "The HAProxy renderer does not serve /.well-known/acme-challenge/ tokens; run the builtin engine on the agents that take port 80.",
  ),
  builtinOnly(
    "route:redirect",
    "Redirect routes",
    "The HAProxy renderer does not express redirect routes yet.",
  ),
  ...policyFeatures(),
  {
    key: "pool:backend_tls",
    label: "TLS to backends (verify, SNI, client certificate)",
    support: {
      builtin: yes(
        "TLS 1.2 and 1.3; kept-alive upstream connections resume TLS sessions; health checks use the same TLS.",
      ),
      haproxy: yes(
        "server … ssl verify required ca-file … sni str(…) crt … check-ssl check-sni; with verify on and no SNI sent, verifyhost <backend host name>. A backend given by IP address with verify on and no SNI is refused (HAProxy cannot check a certificate against an IP address): set SNI to a fixed name.",
      ),
    },
  },
  {
    key: "pool:backend_tls_tcp",
    label: "TLS to backends behind a TCP listener",
    support: {
      builtin: no(
        "The builtin TCP listener splices raw sockets and does not originate TLS; use an HTTP listener or the HAProxy engine.",
      ),
      haproxy: yes("server … ssl in a mode tcp backend."),
    },
  },
  {
    key: "pool:upstream_h2",
    label: "HTTP/2 over TLS to backends",
    support: {
      builtin: yes(
        "Pooled sessions per backend (TLS with ALPN h2 and the pool's backend TLS), streams multiplexed up to maxStreamsPerConnection.",
      ),
      haproxy: yes("server … ssl alpn h2 proto h2."),
    },
  },
  {
    key: "pool:upstream_h2c",
    label: "HTTP/2 without TLS to backends (h2c)",
    support: {
      builtin: yes("Prior knowledge; pooled, multiplexed sessions per backend."),
      haproxy: yes(
        "server … proto h2; an HTTP health check uses check-proto h2 and sends HTTP/1.1 with Host: localhost.",
      ),
    },
  },
  builtinOnly(
    "pool:upstream_h2_http_check",
    "HTTP health checks of a pool speaking HTTP/2 over TLS",
    "HAProxy 2.6's HTTP check over TLS with ALPN h2 (check-alpn h2 check-proto h2) timed out against a node:http2 backend that answered the same check over h2c (measured with 2.6.12); use a TCP check, which completes the TLS handshake, for such pools on this engine.",
  ),
  builtinOnly(
    "pool:upstream_stream_cap",
    "HTTP/2 streams per upstream connection other than the default 100",
    "HAProxy 2.6 has no stream cap of its own toward servers: it opens streams up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. Keep 100 (which HAProxy does not enforce either).",
  ),
  {
    key: "health:grpc",
    label: "gRPC health checks (grpc.health.v1.Health/Check)",
    support: {
      builtin: yes(
        "One Check call per interval on a new HTTP/2 connection (TLS with ALPN h2 when the pool has TLS, else h2c); healthy on grpc-status 0 and SERVING.",
      ),
      haproxy: no(
        "HAProxy's http-check cannot send the binary gRPC request (its strings stop at a NUL byte) nor read grpc-status from trailers; use an HTTP check on a plain path, or the builtin engine.",
      ),
    },
  },
  both("health:http", "HTTP health checks", "option httpchk, http-check expect status/string."),
  both("health:tcp", "TCP health checks", "check (layer 4)."),
  both("backend:backup", "Backup backends", "server … backup."),
  both(
    "backend:state",
    "Drain / disable backends",
    "Runtime API: set server … state drain|maint, no reload.",
  ),
  both("backend:weight", "Backend weights 0–256", "Runtime API: set server … weight, no reload."),
  both(
    "pool:slow_start",
    "Slow start (weighted dynamic policies)",
    "slowstart: HAProxy ramps from ~0 rather than 10% of the weight.",
  ),
  builtinOnly(
    "pool:slow_start_static",
    "Slow start with source_ip_hash, consistent_hash or first_available",
    "HAProxy's slowstart cannot ramp the weight of a static (hash or first) algorithm.",
  ),
  both("persistence:cookie", "Cookie persistence", "cookie NAME insert indirect nocache attr Max-Age=TTL."),
  both("persistence:source_ip", "Source IP persistence", "stick-table type ipv6 expire TTL + stick on src."),
  builtinOnly(
    "pool:outlier_detection",
    "Outlier detection (passive ejection)",
    "HAProxy's observe/error-limit marks a server down until health checks revive it; it has no timed, growing ejection or ejection cap. Turn outlier detection off for this engine.",
  ),
  builtinOnly(
    "pool:retry_budget",
    "Retry budget below 100%",
    "HAProxy cannot cap retries to a share of recent requests. Use budget 100%, 0 attempts or turn retries off.",
  ),
  both(
    "pool:retries",
    "Retries without a budget",
    "retries N, option redispatch; retry-on conn-failure empty-response response-timeout, L7 retries only for bodyless idempotent requests.",
  ),
  both(
    "pool:limits",
    "Per-backend connection limit and queue",
    "server maxconn, timeout queue, 503 when queue() ≥ queueSize.",
  ),
  builtinOnly(
    "pool:queue_size_zero",
    "Queue size 0 with a connection limit",
    "HAProxy always queues at a full server; it cannot refuse at once.",
  ),
  builtinOnly(
    "pool:mixed_protocols",
    "One pool behind both HTTP and TCP listeners",
    "An HAProxy backend runs in one mode, http or tcp.",
  ),
  builtinOnly(
    "pool:per_listener_timeouts",
    "Different connect/response timeouts for listeners sharing a pool",
    "HAProxy sets timeout connect and timeout server per backend, not per frontend.",
  ),
  builtinOnly(
    "listener:response_timeout_differs",
    "Response timeout different from the idle timeout",
    "HAProxy's timeout server bounds both the wait for the response head and pauses in the body; set responseMs = idleMs.",
  ),
  builtinOnly(
    "listener:per_listener_header_limit",
    "Different maxHeaderBytes per HTTP listener",
    "HAProxy's header limit is global (tune.bufsize); give every HTTP listener the same maxHeaderBytes. Oversized heads get 400, not 431.",
  ),
  both(
    "listener:timeouts",
    "Connect, head, idle, keep-alive timeouts",
    "timeout connect, http-request, client, http-keep-alive.",
  ),
  both("listener:max_connections", "Listener maxConnections", "frontend maxconn."),
  builtinOnly(
    "listener:max_body_bytes",
    "Maximum request body size",
    "HAProxy can refuse a body by its Content-Length (http-request deny deny_status 413) but not a chunked body that grows past the limit; set maxBodyBytes to 0 for this engine.",
  ),
  builtinOnly(
    "listener:body_timeout_below_idle",
    "Request body timeout shorter than the idle timeout",
    "HAProxy bounds each pause in a request body with timeout client (the idle timeout); set bodyMs ≥ idleMs.",
  ),
  builtinOnly(
    "listener:min_body_rate",
    "Minimum request body rate other than 0 or the default",
    "HAProxy has no minimum data rate; use 0 (off) or the default 240 bytes/s, which HAProxy does not enforce (its timeout client bounds each pause).",
  ),
  both(
    "listener:trust_forwarded",
    "Trust X-Forwarded-*",
    "option forwardfor; X-Forwarded-Proto/Host set unless trusted.",
  ),
];

const byKey = new Map(ENGINE_FEATURES.map((f) => [f.key, f]));

export function engineFeature(key: string): EngineFeature | undefined {
  return byKey.get(key);
}

/** The TLS features (issue 16) a proxy listener uses: both engines check these keys. */
export function tlsFeaturesUsed(listener: {
  protocol: string;
  tls?: unknown;
  settings?: { redirectToHttps?: unknown };
}): string[] {
  const keys: string[] = [];
  if (listener.protocol === "http" && listener.tls) keys.push("listener:tls");
  if (listener.protocol === "http" && listener.settings?.redirectToHttps)
    keys.push("listener:redirect_to_https");
  return keys;
}

/** The TLS-to-backends features (issue 16) a pool uses; `behindTcp`: a tcp listener routes to it. */
export function backendTlsFeaturesUsed(pool: { tls?: unknown }, behindTcp: boolean): string[] {
  if (!pool.tls) return [];
  return behindTcp ? ["pool:backend_tls", "pool:backend_tls_tcp"] : ["pool:backend_tls"];
}

/** Why `engine` cannot run the feature `key`, or undefined when it can (unknown keys: supported). */
export function unsupportedReason(engine: EngineName, key: string): string | undefined {
  const s = byKey.get(key)?.support[engine];
  return s && !s.supported ? s.reason : undefined;
}
