/** Every wait in the data plane is bounded by default; 0 is never used to mean "forever". */
export interface DataPlaneTimeouts {
  /** TCP connect to a backend. */
  upstreamConnectMs: number;
  /** From the request fully sent to the backend's response head. */
  upstreamResponseMs: number;
  /** No bytes either way on an established client or upstream connection. */
  idleMs: number;
  /** Client must send a complete request head within this. */
  clientHeadersMs: number;
  /** Client must send a complete request (head and body) within this. */
  clientRequestMs: number;
  /** Idle keep-alive client connections are closed after this. */
  clientKeepAliveMs: number;
  /** Idle pooled upstream connections are dropped after this; below common backend keep-alive (5 s in Node). */
  upstreamKeepAliveMs: number;
  /** How long removed listeners and old upstream pools may finish in-flight work. */
  drainGraceMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<DataPlaneTimeouts> = Object.freeze({
  upstreamConnectMs: 5_000,
  upstreamResponseMs: 60_000,
  idleMs: 120_000,
  clientHeadersMs: 30_000,
  clientRequestMs: 300_000,
  clientKeepAliveMs: 30_000,
  upstreamKeepAliveMs: 4_000,
  drainGraceMs: 30_000,
});
