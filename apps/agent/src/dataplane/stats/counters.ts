/**
 * Counters for the data plane. Plain number fields bumped in place: no
 * allocation on the hot path. `engine.stats()` copies them into JSON.
 */

import type { Histogram } from "@fulcrum/protocol";

/** Requests and responses by status class, bytes and connections; used for listeners, routes and pools. */
export class TrafficCounters {
  requests = 0;
  status1xx = 0;
  status2xx = 0;
  status3xx = 0;
  status4xx = 0;
  status5xx = 0;
  /** Requests whose client went away before any response head was written. */
  aborted = 0;
  /** Body bytes from clients. */
  bytesIn = 0;
  /** Body bytes to clients. */
  bytesOut = 0;
  activeConnections = 0;
  totalConnections = 0;

  /** Counts one response by its status class (status 0 = none, e.g. a TCP connection). */
  response(status: number): void {
    countStatus(this, status);
  }

  toJSON(): TrafficSnapshot {
    return {
      requests: this.requests,
      responses: {
        "1xx": this.status1xx,
        "2xx": this.status2xx,
        "3xx": this.status3xx,
        "4xx": this.status4xx,
        "5xx": this.status5xx,
      },
      aborted: this.aborted,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      activeConnections: this.activeConnections,
      totalConnections: this.totalConnections,
    };
  }
}

export interface TrafficSnapshot {
  requests: number;
  responses: { "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  aborted: number;
  bytesIn: number;
  bytesOut: number;
  activeConnections: number;
  totalConnections: number;
}

interface StatusFields {
  status1xx: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
}

export function countStatus(c: StatusFields, status: number): void {
  switch ((status / 100) | 0) {
    case 1:
      c.status1xx++;
      break;
    case 2:
      c.status2xx++;
      break;
    case 3:
      c.status3xx++;
      break;
    case 4:
      c.status4xx++;
      break;
    case 5:
      c.status5xx++;
      break;
  }
}

/** Per pool: traffic plus retries, queueing and a latency histogram of backend response heads. */
export class PoolCounters extends TrafficCounters {
  retries = 0;
  /** Requests that had to wait in the pool's queue. */
  queued = 0;
  queueFull = 0;
  queueTimeouts = 0;
  noBackend = 0;
  constructor(readonly latency: Histogram) {
    super();
  }
}

/** Per backend (address:port, shared by every pool that lists it): attempts and their outcomes. */
export class BackendCounters implements StatusFields {
  /** Leases: HTTP attempts, upgrade tunnels and TCP connections. */
  attempts = 0;
  status1xx = 0;
  status2xx = 0;
  status3xx = 0;
  status4xx = 0;
  status5xx = 0;
  /** Attempts that carried no HTTP status (TCP connections that connected). */
  tcpSessions = 0;
  connectFailures = 0;
  failuresBeforeResponse = 0;
  timeouts = 0;
  failuresAfterResponse = 0;
  clientAborts = 0;
  bytesIn = 0;
  bytesOut = 0;
  healthTransitions = 0;
  ejections = 0;
  constructor(readonly latency: Histogram) {}
}

/** An accepted client connection: counted now, and as active until it closes. */
export function countConnection(
  stats: TrafficCounters | undefined,
  socket: { once(e: "close", f: () => void): unknown },
): void {
  if (!stats) return;
  stats.totalConnections++;
  stats.activeConnections++;
  socket.once("close", () => stats.activeConnections--);
}

export function countRequest(l: TrafficCounters | undefined, r?: TrafficCounters, p?: TrafficCounters): void {
  if (l) l.requests++;
  if (r) r.requests++;
  if (p) p.requests++;
}

export function countResponse(
  status: number,
  l: TrafficCounters | undefined,
  r?: TrafficCounters,
  p?: TrafficCounters,
): void {
  if (l) countStatus(l, status);
  if (r) countStatus(r, status);
  if (p) countStatus(p, status);
}

export function countAborted(l: TrafficCounters | undefined, r?: TrafficCounters, p?: TrafficCounters): void {
  if (l) l.aborted++;
  if (r) r.aborted++;
  if (p) p.aborted++;
}

export function countBytes(
  bytesIn: number,
  bytesOut: number,
  l: TrafficCounters | undefined,
  r?: TrafficCounters,
  p?: TrafficCounters,
): void {
  if (l) {
    l.bytesIn += bytesIn;
    l.bytesOut += bytesOut;
  }
  if (r) {
    r.bytesIn += bytesIn;
    r.bytesOut += bytesOut;
  }
  if (p) {
    p.bytesIn += bytesIn;
    p.bytesOut += bytesOut;
  }
}
