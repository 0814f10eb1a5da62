import { createHash } from "node:crypto";
import {
  hstsHeaderValue,
  type ListenerTls,
  POLICY_FACTS,
  type RedirectToHttps,
  type Snapshot,
  type SnapshotBackend,
  type SnapshotPool,
  type SnapshotProxyListener,
} from "@fulcrum/protocol";
import { TLS12_CIPHERS, TLS13_CIPHERS } from "../../dataplane/frontends/tls/listener-tls";
import { upstreamKey } from "../../dataplane/pools/backend-state";
import { serverTlsOptions, tlsFingerprintComment } from "./backend-tls";
import { HAPROXY_BALANCE } from "./balance";
import {
  bindProtocolOptions,
  h2CheckRequestSuffix,
  h2GlobalLines,
  serverAlpn,
  serverProtocolOptions,
} from "./http2";
import { backendName, frontendName, hostPort, quote, routeVar, serverName } from "./names";
import { crtListPath } from "./tls-files";
import { listenersByPool, proxyListeners } from "./validate";

export interface RenderPaths {
  /** Unix socket of the runtime API (stats socket, level admin, exposes listener fds for reloads). */
  statsSocket: string;
  /** Server states the agent saves before a reload, for the new worker to restore (server-state.ts). */
  serverStateFile: string;
  /** Where the certificates' PEM files and the listeners' crt-lists are (tls-files.ts). */
  certDir: string;
}

export interface RenderOptions {
  /** Leave out what the runtime API changes (weights, drain, disable): two equal neutral renders need no reload. */
  neutral?: boolean;
  /**
   * The HAProxy binary knows `idle-close-on-response` (newer than 2.6.12):
   * on reload, idle keep-alive connections get a `Connection: close` answer
   * to their next request instead of being closed under the client.
   */
  idleCloseOnResponse?: boolean;
  /**
   * The cluster's session-ticket keys file (ticket-key-file.ts), on every TLS
   * bind; absent until the agent has a ring (HAProxy's own random keys then).
   */
  ticketKeysFile?: string;
}

/** HAProxy's maxrewrite reserve: the largest request head that fits is tune.bufsize − this. */
export const MAX_REWRITE = 1024;

const ms = (n: number) => `${n}ms`;

/**
 * The weight HAProxy should use for a backend: the snapshot's weight for
 * weighted policies, 1 for policies that ignore weights (the protocol's
 * policy table says which; 0 is a valid "serving" weight there). Draining is
 * a state, not a weight.
 */
export function serverWeight(pool: SnapshotPool, b: SnapshotBackend): number {
  return POLICY_FACTS[pool.policy].weighted ? b.weight : 1;
}

/** Opaque sticky-cookie value, the same as the builtin engine's, so switching engines keeps sessions. */
export const cookieValue = (b: SnapshotBackend) =>
  createHash("sha256").update(upstreamKey(b)).digest("base64url").slice(0, 16);

/** validate.ts refuses a policy HAProxy has no algorithm for before anything is rendered. */
function balance(pool: SnapshotPool): string[] {
  const how = HAPROXY_BALANCE[pool.policy];
  if (!how) throw new Error(`policy ${pool.policy} has no HAProxy balance algorithm`);
  return how.lines(pool);
}

/**
 * A server line. With `neutral`, the fields the runtime API can change
 * (weight, drain, disable) are left out, so two renders that differ only
 * there compare equal: that change needs no reload.
 */
function serverLine(
  pool: SnapshotPool,
  b: SnapshotBackend,
  mode: string,
  neutral: boolean,
  certDir: string,
): string {
  const parts = [`server ${serverName(b.id)} ${hostPort(b.address, b.port)}`];
  if (!neutral) parts.push(`weight ${b.state === "draining" ? 0 : serverWeight(pool, b)}`);
  const maxconn = b.maxConnections ?? pool.limits.maxConnectionsPerBackend;
  if (maxconn > 0) parts.push(`maxconn ${maxconn}`);
  if (b.backup) parts.push("backup");
  if (pool.healthCheck.type !== "none") parts.push("check");
  if (mode === "http" && pool.persistence.type === "cookie") parts.push(`cookie ${cookieValue(b)}`);
  if (!neutral && b.state === "disabled") parts.push("disabled");
  if (pool.tls) parts.push(...serverTlsOptions(pool.tls, b, certDir, serverAlpn(pool)));
  parts.push(...serverProtocolOptions(pool));
  return parts.join(" ");
}

function backendSection(
  pool: SnapshotPool,
  listeners: readonly SnapshotProxyListener[],
  neutral: boolean,
  snapshot: Snapshot,
  certDir: string,
): string[] {
  const mode = listeners[0]?.protocol === "tcp" ? "tcp" : "http";
  // validate.ts made sure every listener of this pool agrees on these.
  const t = listeners[0]?.settings.timeouts ?? { connectMs: 5000, idleMs: 60_000, responseMs: 60_000 };
  const out = [`backend ${backendName(pool.id)}`, `mode ${mode}`, ...balance(pool)];
  out.push(`timeout connect ${ms(t.connectMs)}`);
  out.push(`timeout server ${ms(mode === "tcp" ? t.idleMs : t.responseMs)}`);
  out.push(`timeout tunnel ${ms(t.idleMs)}`);
  out.push(`timeout queue ${ms(pool.limits.queueTimeoutMs)}`);

  const r = pool.retries;
  const attempts = r.enabled ? r.attempts : 0;
  out.push(`retries ${attempts}`);
  if (attempts > 0) {
    if (mode === "http") {
      out.push("retry-on conn-failure empty-response response-timeout");
      // As the builtin engine: beyond failed connects, only bodyless idempotent requests are retried.
      out.push(
        "http-request disable-l7-retry unless { method GET HEAD OPTIONS PUT DELETE TRACE }",
        "http-request disable-l7-retry if { req.hdr_cnt(transfer-encoding) gt 0 }",
        "http-request disable-l7-retry if { req.hdr_val(content-length) gt 0 }",
      );
    }
    out.push("option redispatch 1");
  }

  const hc = pool.healthCheck;
  if (hc.type === "http") {
    out.push("option httpchk");
    out.push(`http-check send meth ${hc.method} uri ${quote(hc.path)}${h2CheckRequestSuffix(pool)}`);
    out.push(`http-check expect status ${hc.expectStatus[0]}-${hc.expectStatus[1]}`);
    if (hc.expectBody !== undefined && hc.method !== "HEAD") {
      out.push(`http-check expect string ${quote(hc.expectBody)}`);
    }
  }
  if (hc.type !== "none") out.push(`timeout check ${ms(hc.timeoutMs)}`);

  const p = pool.persistence;
  if (p.type === "cookie" && mode === "http") {
    out.push(
      `cookie ${quote(p.cookieName)} insert indirect nocache attr ${quote(`Max-Age=${p.ttlSeconds}`)}`,
    );
  }
  if (p.type === "source_ip") {
    out.push(`stick-table type ipv6 size 1m expire ${p.ttlSeconds}s`, "stick on src");
  }

  const limited =
    pool.limits.maxConnectionsPerBackend > 0 || pool.backends.some((b) => b.maxConnections !== null);
  if (limited) {
    const q = pool.limits.queueSize;
    out.push(
      mode === "http"
        ? `http-request return status 503 content-type text/plain string 'pool queue is full' if { queue() ge ${q} }`
        : `tcp-request content reject if { queue() ge ${q} }`,
    );
  }

  const defaults = [`default-server inter ${ms(hc.intervalMs)} rise ${hc.rise} fall ${hc.fall}`];
  if (pool.slowStartMs > 0) defaults.push(`slowstart ${ms(pool.slowStartMs)}`);
  out.push(defaults.join(" "));
  out.push(...tlsFingerprintComment(pool, snapshot));
  for (const b of pool.backends) out.push(serverLine(pool, b, mode, neutral, certDir));
  return out;
}

/** Routes in the builtin engine's order: priority, then the longest prefix, then a named host first. */
function orderedRoutes(l: SnapshotProxyListener) {
  return [...l.routes].sort(
    (a, b) =>
      b.priority - a.priority ||
      b.pathPrefix.length - a.pathPrefix.length ||
      Number(b.host !== "") - Number(a.host !== ""),
  );
}

/**
 * The bind line's TLS options, the builtin engine's choices (listener-tls.ts):
 * TLS 1.2 up to 1.3 from the listener's minimum, the same TLS 1.2 suites
 * (Mozilla intermediate without DHE) and TLS 1.3 suites, the client's order,
 * ALPN http/1.1; strict-sni fails the handshake for a name no certificate
 * covers (and for no name at all), as unknownName "reject" does.
 */
function tlsBindOptions(tls: ListenerTls, crtList: string, ticketKeysFile: string | undefined): string {
  // ALPN (http/1.1, or h2,http/1.1 with HTTP/2) comes from bindProtocolOptions (http2.ts).
  const parts = [
    `ssl crt-list ${quote(crtList)}`,
    ...(ticketKeysFile ? [`tls-ticket-keys ${quote(ticketKeysFile)}`] : []),
    `ssl-min-ver ${tls.minVersion}`,
    "ssl-max-ver TLSv1.3",
    `ciphers ${TLS12_CIPHERS}`,
    `ciphersuites ${TLS13_CIPHERS}`,
    "prefer-client-ciphers",
  ];
  if (tls.unknownName === "reject") parts.push("strict-sni");
  return parts.join(" ");
}

/** A Host HAProxy may copy into a Location: a name, IPv4, or bracketed IPv6, an optional port. */
const LOCATION_HOST = String.raw`^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)(:[0-9]+)?$`;

/**
 * settings.redirectToHttps, before any route (as the builtin engine): the
 * same host without its port or trailing dot, the given port (left out for
 * 443), the path and query as received; a Host that is not a host name or
 * address gets 400 rather than landing in a Location.
 */
function httpsRedirect(to: RedirectToHttps): string[] {
  const port = to.port === 443 ? "" : `:${to.port}`;
  return [
    `http-request return status 400 content-type text/plain string 'the Host header is not a host name or address' unless { req.hdr(host) -m reg -i ${LOCATION_HOST} }`,
    `http-request redirect location https://%[req.hdr(host),lower,regsub(:[0-9]+$,),regsub(\\.$,)]${port}%[pathq] code ${to.status}`,
  ];
}

function httpFrontend(l: SnapshotProxyListener, certDir: string, ticketKeysFile?: string): string[] {
  const s = l.settings;
  const t = s.timeouts;
  const tls = l.protocol === "http" ? l.tls : undefined;
  const bind = `bind ${hostPort(l.bindAddress, l.port)}`;
  const out = [
    `frontend ${frontendName(l.id)}`,
    "mode http",
    [
      bind,
      ...(tls ? [tlsBindOptions(tls, crtListPath(certDir, l.id), ticketKeysFile)] : []),
      ...bindProtocolOptions(l),
    ].join(" "),
    `maxconn ${s.maxConnections}`,
    `timeout client ${ms(t.idleMs)}`,
    `timeout http-request ${ms(t.headMs)}`,
    `timeout http-keep-alive ${ms(t.keepAliveMs)}`,
  ];
  if (!s.trustForwarded) {
    out.push(
      "http-request del-header X-Forwarded-For",
      "http-request del-header X-Forwarded-Proto",
      "http-request del-header X-Forwarded-Host",
    );
  }
  out.push(
    "option forwardfor",
    `http-request set-header X-Forwarded-Proto ${tls ? "https" : "http"} unless { req.hdr(x-forwarded-proto) -m found }`,
    "http-request set-header X-Forwarded-Host %[req.hdr(host)] if { req.hdr(host) -m found } !{ req.hdr(x-forwarded-host) -m found }",
    "http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
  );
  if (tls?.hsts) {
    // http-after-response (unlike http-response) also sees HAProxy's own replies (no route, 503, 504,
    // http-request return/redirect); set-header replaces a backend's own value: the listener's wins.
    out.push(`http-after-response set-header Strict-Transport-Security ${quote(hstsHeaderValue(tls.hsts))}`);
  }
  const redirect = l.protocol === "http" && !tls ? s.redirectToHttps : null;
  if (redirect) out.push(...httpsRedirect(redirect));
  const routes = orderedRoutes(l);
  for (const r of routes) {
    const conds = ["!{ var(txn.route) -m found }"];
    if (r.host !== "") {
      const h = r.host.toLowerCase();
      conds.push(`{ var(txn.host) -m str ${quote(h)} ${quote(`${h}.`)} }`);
    }
    if (r.pathPrefix !== "/") conds.push(`{ path_beg ${quote(r.pathPrefix)} }`);
    out.push(`http-request set-var(txn.route) str(${routeVar(r.id)}) if ${conds.join(" ")}`);
  }
  out.push(
    "http-request return status 404 content-type text/plain string 'no route for this host and path' unless { var(txn.route) -m found }",
  );
  for (const r of routes) {
    out.push(`use_backend ${backendName(r.poolId)} if { var(txn.route) -m str ${routeVar(r.id)} }`);
  }
  return out;
}

function tcpFrontend(l: SnapshotProxyListener): string[] {
  const out = [
    `frontend ${frontendName(l.id)}`,
    "mode tcp",
    `bind ${hostPort(l.bindAddress, l.port)}`,
    `maxconn ${l.settings.maxConnections}`,
    `timeout client ${ms(l.settings.timeouts.idleMs)}`,
  ];
  const top = orderedRoutes(l)[0];
  out.push(top ? `default_backend ${backendName(top.poolId)}` : "tcp-request connection reject");
  return out;
}

/**
 * haproxy.cfg for a snapshot. Pure: the same snapshot and paths give the
 * same text (golden-tested). Call validate.assertSupported first.
 */
export function renderConfig(snapshot: Snapshot, paths: RenderPaths, opts: RenderOptions = {}): string {
  const neutral = opts.neutral ?? false;
  const listeners = proxyListeners(snapshot);
  const http = listeners.filter((l) => l.protocol === "http");
  const headerLimit = http[0]?.settings.maxHeaderBytes;
  const global = [
    "global",
    `stats socket ${quote(paths.statsSocket)} mode 600 level admin expose-fd listeners`,
    "stats timeout 10s",
    "hard-stop-after 30s",
    `server-state-file ${quote(paths.serverStateFile)}`,
  ];
  if (opts.idleCloseOnResponse) global.push("idle-close-on-response");
  global.push(...h2GlobalLines(snapshot));
  if (headerLimit !== undefined) {
    global.push(`tune.bufsize ${headerLimit + MAX_REWRITE}`, `tune.maxrewrite ${MAX_REWRITE}`);
  }
  const sections: string[][] = [
    global,
    [
      "defaults",
      "mode http",
      "timeout connect 5s",
      "timeout client 60s",
      "timeout server 60s",
      "load-server-state-from-file global",
    ],
  ];
  for (const l of listeners)
    sections.push(
      l.protocol === "tcp" ? tcpFrontend(l) : httpFrontend(l, paths.certDir, opts.ticketKeysFile),
    );
  const byPool = listenersByPool(snapshot);
  for (const p of snapshot.pools) {
    sections.push(backendSection(p, byPool.get(p.id) ?? [], neutral, snapshot, paths.certDir));
  }

  const head = neutral
    ? "# structure only (runtime fields left out)"
    : `# Rendered by fulcrum-agent from snapshot v${snapshot.version} (${snapshot.hash.slice(0, 12)}). The agent rewrites this file.`;
  return `${head}\n${sections.map(([first, ...rest]) => [first, ...rest.map((x) => `  ${x}`)].join("\n")).join("\n\n")}\n`;
}
