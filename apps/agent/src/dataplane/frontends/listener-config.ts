import type {
  DnsListenerSettings,
  ListenerHttp2,
  ListenerProtocol,
  RedirectToHttps,
  SnapshotListener,
} from "@fulcrum/protocol";
import type { TrafficCounters } from "../stats/counters";
import type { HandshakeCounters } from "../stats/handshake-counters";
import type { DataPlaneTimeouts } from "../timeouts";
import type { AcmeTokens } from "./acme/challenge-answer";
import type { CompiledTls } from "./tls/listener-tls";
import type { SharedTicketKey } from "./tls/ticket-keys";

/**
 * What a listener (front end) needs from the snapshot, compiled once per
 * snapshot by engines/builtin/compile.ts. A listener kept across a swap receives the new one
 * with its new route table (`setConfig`, when the listener implements it).
 * Every wait is bounded; all times in ms.
 */
export interface ListenerConfig {
  readonly id: string;
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly bindAddress: string;
  readonly port: number;
  /** Keep (append to) the client's X-Forwarded-For/-Proto/-Host instead of overwriting them. */
  readonly trustForwarded: boolean;
  /** Open client connections at most; beyond it new ones are refused (closed at accept). */
  readonly maxConnections: number;
  /** Largest request head (request line + headers) accepted; beyond it the answer is 431. */
  readonly maxHeaderBytes: number;
  /** Largest request body; 0 = no limit. Beyond it the answer is 413 (or the connection closes mid-body). */
  readonly maxBodyBytes: number;
  /** Slowest request body accepted after a 5 s grace, bytes per second; 0 = off. */
  readonly minBodyBytesPerSecond: number;
  readonly timeouts: ListenerTimeouts;
  /** Counters of this listener (they survive swaps: same object while the listener id stays). */
  readonly stats: TrafficCounters;
  /** dns listeners only: their own settings (the HTTP fields above then hold defaults and are unused). */
  readonly dns?: DnsListenerSettings;
  /** http listeners that terminate TLS: certificates by SNI, versions, HSTS (tls/listener-tls.ts). */
  readonly tls?: CompiledTls;
  /** With `tls`: this listener's handshake counters (same object while the listener id stays). */
  readonly handshakes?: HandshakeCounters;
  /** With `tls`: the cluster's session-ticket key, the engine's one holder (changes without a snapshot). */
  readonly ticketKey?: SharedTicketKey;
  /** Plain http listeners only: every request is answered with a redirect to https. */
  readonly redirectToHttps?: RedirectToHttps;
  /** Plain http listeners only: ACME HTTP-01 tokens answered before routing (acme/challenge-answer.ts). */
  readonly acmeTokens?: AcmeTokens;
  /** http listeners only: HTTP/2 (ALPN h2 with TLS, h2c prior knowledge without) and its limits (h2/). */
  readonly http2?: ListenerHttp2;
}

export interface ListenerTimeouts {
  /** TCP connect to a backend. */
  readonly connectMs: number;
  /** A client must send a complete request head within this (slowloris guard). */
  readonly headMs: number;
  /** No bytes either way on a client or upstream connection (also TCP tunnels). */
  readonly idleMs: number;
  /** From the request sent to the backend's response head. */
  readonly responseMs: number;
  /** HTTP client connections idle between requests are closed after this. */
  readonly clientKeepAliveMs: number;
  /** Longest pause between two reads of a request body (nginx client_body_timeout). */
  readonly bodyMs: number;
  /** Engine-wide: a client must send its whole request (head and body) within this. */
  readonly clientRequestMs: number;
  /** Engine-wide: removed listeners get this long to finish their connections. */
  readonly drainGraceMs: number;
}

export function listenerConfig(
  l: SnapshotListener,
  engine: DataPlaneTimeouts,
  stats: TrafficCounters,
): ListenerConfig {
  if (l.protocol === "dns")
    return dnsListenerConfig(l.id, l.name, l.bindAddress, l.port, l.settings, engine, stats);
  const s = l.settings;
  return {
    id: l.id,
    name: l.name,
    protocol: l.protocol,
    bindAddress: l.bindAddress,
    port: l.port,
    trustForwarded: s.trustForwarded,
    maxConnections: s.maxConnections,
    maxHeaderBytes: s.maxHeaderBytes,
    maxBodyBytes: s.maxBodyBytes,
    minBodyBytesPerSecond: s.minBodyBytesPerSecond,
    timeouts: {
      connectMs: s.timeouts.connectMs,
      headMs: s.timeouts.headMs,
      idleMs: s.timeouts.idleMs,
      responseMs: s.timeouts.responseMs,
      clientKeepAliveMs: s.timeouts.keepAliveMs,
      bodyMs: s.timeouts.bodyMs,
      clientRequestMs: engine.clientRequestMs,
      drainGraceMs: engine.drainGraceMs,
    },
    stats,
    ...(s.redirectToHttps ? { redirectToHttps: s.redirectToHttps } : {}),
    ...(l.protocol === "http" && l.http2 ? { http2: l.http2 } : {}),
  };
}

/** The engine-wide timeouts with this listener's settings in, for front ends that take DataPlaneTimeouts. */
export function timeoutsFor(c: ListenerConfig, engine: DataPlaneTimeouts): DataPlaneTimeouts {
  return {
    ...engine,
    upstreamConnectMs: c.timeouts.connectMs,
    upstreamResponseMs: c.timeouts.responseMs,
    idleMs: c.timeouts.idleMs,
    clientHeadersMs: c.timeouts.headMs,
    clientKeepAliveMs: c.timeouts.clientKeepAliveMs,
  };
}

/** A dns listener proxies nothing: only its connection limit and TCP idle timeout carry over. */
function dnsListenerConfig(
  id: string,
  name: string,
  bindAddress: string,
  port: number,
  dns: DnsListenerSettings,
  engine: DataPlaneTimeouts,
  stats: TrafficCounters,
): ListenerConfig {
  return {
    id,
    name,
    protocol: "dns",
    bindAddress,
    port,
    trustForwarded: false,
    maxConnections: dns.maxConnections,
    maxHeaderBytes: 0,
    maxBodyBytes: 0,
    minBodyBytesPerSecond: 0,
    timeouts: {
      connectMs: engine.upstreamConnectMs,
      headMs: dns.tcpIdleMs,
      idleMs: dns.tcpIdleMs,
      responseMs: engine.upstreamResponseMs,
      clientKeepAliveMs: engine.clientKeepAliveMs,
      bodyMs: dns.tcpIdleMs,
      clientRequestMs: engine.clientRequestMs,
      drainGraceMs: engine.drainGraceMs,
    },
    stats,
    dns,
  };
}
