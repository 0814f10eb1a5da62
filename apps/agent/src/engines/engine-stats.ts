import type { Histogram } from "@fulcrum/protocol";
import type { BackendCounters, TrafficSnapshot } from "../dataplane/stats/counters";
import type { HandshakeSnapshot } from "../dataplane/stats/handshake-counters";

export interface PoolStats extends TrafficSnapshot {
  name: string;
  retries: number;
  queueLength: number;
  queued: number;
  queueFull: number;
  queueTimeouts: number;
  noBackend: number;
  /** Backend response-head latency of this pool's attempts (ms, protocol histogram). */
  latency: Histogram;
  /** Sticky sessions pinned per snapshot backend id (cookie or source-IP persistence); absent = none kept. */
  stickySessions?: Record<string, number>;
}

export interface BackendStats extends Omit<BackendCounters, "latency"> {
  address: string;
  port: number;
  inFlight: number;
  ewmaMs: number | null;
  latency: Histogram;
}

/** engine.stats(): counters since the agent started; plain JSON. */
export interface EngineStats {
  at: string;
  /** By listener id. */
  listeners: Record<string, TrafficSnapshot & { name: string; tls?: HandshakeSnapshot }>;
  /** By route id. */
  routes: Record<string, TrafficSnapshot>;
  /** By pool id. */
  pools: Record<string, PoolStats>;
  /** By backend key (address:port): a backend listed in several pools is one entry. */
  backends: Record<string, BackendStats>;
}

/** Stats with nothing counted yet, stamped now: the start of every engine's (and the worker merge's) view. */
export function emptyEngineStats(): EngineStats {
  return { at: new Date().toISOString(), listeners: {}, routes: {}, pools: {}, backends: {} };
}
